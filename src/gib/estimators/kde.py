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
no cancellation error, and rows are processed in blocks so that memory stays at a few work
arrays whatever N and n are. The exponentials, (2n + 1) N^2 of them per group (twice that with
a continuous V), dominate the cost.

The same code runs on NumPy arrays and on torch tensors on any device (``gib._xp``); only the
shape of the work differs (``_BLOCK_ELEMENTS``): NumPy takes one feature at a time on
cache-sized (rows x N) blocks, torch every feature of a block of rows at once.

Exponents are not shifted by each row's maximum (that costs two extra passes per matrix):
they are at most 0, and are clamped at -700 when they can go lower, because NumPy's ``exp`` is
~10x slower on arguments whose result is subnormal or zero. A clamped term is at most 1e-304,
so a row is exact unless its whole kernel sum is tiny; such rows (an isolated sample with no
neighbour within ~700 / c) are recomputed from a fresh copy of their exponents with the usual
max-shift (``logsumexp``).
"""

from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple

import numpy as np

from .. import _xp
from .._validation import non_negative_float, positive_float, positive_int
from .base import (Entropies, Estimator, LeaveOneOut, check_device, constant_columns, float_numbers, is_discrete,
                   leave_one_out_varying, register)

_LN2 = math.log(2.0)
_LOG_2PI = math.log(2.0 * math.pi)
# Elements of one work array, by backend. NumPy runs every operation as its own pass over
# memory, so it works one feature at a time on cache-sized (rows x N) blocks (1 MB; at most
# five are kept). torch takes every feature of a block of rows at once, (features x rows x N),
# to cut the number of calls (kernel launches on a GPU); two such arrays are kept.
_BLOCK_ELEMENTS = {"numpy": 1 << 17, "cpu": 1 << 20, "cuda": 1 << 26}
_EXP_FLOOR = -700.0  # exp(-700) ~ 1e-304 is still a normal float
_TINY_SUM = 1e-280  # kernel sums below this are recomputed with a shift
# Columns whose largest magnitude is beyond 2^+-_SAFE_EXPONENT are scaled by a power of two
# before their squares are taken (``_standardise``); a class's sigma floor is bounded.
_SAFE_EXPONENT = 400
_LOG_FLOOR_BOUND = math.log(1e150)
# The valid ``bandwidth_scale`` (ours). Below it each sample's kernel is a spike: entropies of
# order 1 / scale^2 nats whose differences (the MI) lose every digit (at 1e-300 the exponent
# factor overflows); above it the kernel is flat over any data and every MI is 0 to rounding
# (at 1e300 its square overflows).
BANDWIDTH_SCALE_RANGE = (1e-4, 1e4)


# -- pairwise sums ------------------------------------------------------------------------------
def _blocks(x: Any, N: int, n: int) -> tuple[int, int]:
    """(rows per block, features per chunk) for ``x``'s backend (see ``_BLOCK_ELEMENTS``)."""
    backend = _xp.device_type(x)
    budget = _BLOCK_ELEMENTS.get(backend, _BLOCK_ELEMENTS["cpu"])
    if backend == "numpy":
        return max(1, min(N, budget // N)), 1
    return max(1, min(N, budget // (n * N))), n


def _squared_distances(xt: Any, start: int, stop: int, out: Any, tmp: Any) -> None:
    """``out[r, j] = sum_k (xt[k, start + r] - xt[k, j])^2`` (``xt`` is columns x samples)."""
    for k in range(xt.shape[0]):
        _xp.subtract_outer(xt[k, start:stop], xt[k], out=tmp)
        _xp.square_(tmp)
        if k == 0:
            out[...] = tmp
        else:
            out += tmp


def _log_sums(xp, expo: Any, w: Any, w_rows: Any, diagonal: tuple, include_self: bool, may_underflow: bool,
              remake: Callable[[], Any]) -> Any:
    """``sum_i w_i L_i`` over the rows of an exponent block (..., rows, N), for every leading
    index. The block's rows are samples ``start..`` with weights ``w_rows``, and ``diagonal``
    is (``arange(rows)``, ``start + arange(rows)``), the pairs i = j. ``expo`` is consumed.

    ``L_i = log sum_{j != i} w_j exp(expo_ij)``, plus the self term w_i if ``include_self``.
    Sums that underflow (an isolated sample) are recomputed from a fresh ``remake()`` of the
    exponents with the max-shift of ``logsumexp`` (module docstring).
    """
    if may_underflow:
        _xp.clamp_min_(expo, _EXP_FLOOR)
    expo[(..., *diagonal)] = -math.inf
    _xp.exp_(expo)
    s = expo @ w
    if include_self:
        s += w_rows
    tiny = s < _TINY_SUM
    log_s = xp.log(xp.where(tiny, 1.0, s))
    if bool(xp.any(tiny)):
        where = xp.nonzero(tiny)
        fresh = remake()
        fresh[(..., *diagonal)] = -math.inf
        shifted = _xp.logsumexp(fresh[where] + xp.log(w), axis=-1)
        if include_self:
            shifted = _xp.logaddexp(shifted, xp.log(w_rows[where[-1]]))
        log_s[where] = shifted
    return log_s @ w_rows


def _pair_sum(x: np.ndarray, w: np.ndarray, c: float, include_self: bool) -> float:
    """``S = sum_i w_i L_i`` over all columns of ``x``: the plain, one-subset computation."""
    xt = _xp.contiguous(x.T)
    N = len(x)
    r, _ = _blocks(x, N, x.shape[1])
    dist, tmp = np.empty((r, N)), np.empty((r, N))
    total = 0.0
    for start in range(0, N, r):
        stop = min(N, start + r)
        k = stop - start
        _squared_distances(xt, start, stop, dist[:k], tmp[:k])
        may_underflow = c * dist[:k].max() > -_EXP_FLOOR
        np.multiply(dist[:k], -c, out=tmp[:k])
        rows = np.arange(k)
        sums = _log_sums(np, tmp[:k], w, w[start:stop], (rows, start + rows), include_self, may_underflow,
                         lambda: dist[:k] * -c)
        total += float(sums)
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
    x: Any, w: Any, c: Callable[[int], float], include_self: bool, y: Any | None = None
) -> _Sums:
    """All the subset sums of one group by distance subtraction (see the module docstring).

    ``x`` (samples x columns) and ``w`` are in one namespace, on one device; so is ``y``, a
    continuous V. ``c(d)`` is the exponent's factor for a variable of d columns. Rows go in
    blocks and features in chunks (``_blocks``); a chunk's column terms ``D_i`` are one
    (features x rows x N) array, (rows x N) for a chunk of one, and every exponent of the chunk
    is written from them into one work array of that shape.
    """
    xp = _xp.namespace(x)
    dev = _xp.device(x)
    N, n = x.shape
    m = 0 if y is None else y.shape[1]
    c_joint, c_single, c_comp = c(n), c(1), c(n - 1)
    # Columns pre-scaled by sqrt(c_comp): a complement's exponents are then term_i - dist_x,
    # one subtraction, and every other subset rescales by its factor's ratio to c_comp.
    scale = math.sqrt(c_comp)
    xt = _xp.contiguous(x.T * scale)  # (n, N)
    yt = None if y is None else _xp.contiguous(y.T * scale)
    # Exponents go below the clamp only if factor * distance can exceed 700: a single's
    # distances are bounded by its column's squared range, the others by D(X) (+ D(V)).
    range_sq = np.square(_xp.to_numpy(xp.max(x, axis=0) - xp.min(x, axis=0))).tolist()
    limit = -_EXP_FLOOR
    zeros = lambda: xp.zeros(n, dtype=xp.float64, device=dev)  # noqa: E731
    joint, single, comp = 0.0, zeros(), zeros()
    if y is not None:
        c_v, c_joint_v, c_single_v, c_comp_v = c(m), c(n + m), c(1 + m), c(n - 1 + m)
        v, joint_v, single_v, comp_v = 0.0, 0.0, zeros(), zeros()
    r, chunk = _blocks(x, N, n)
    empty = lambda *shape: xp.empty(shape, dtype=xp.float64, device=dev)  # noqa: E731
    dist_buf, term_buf, work_buf = empty(r, N), empty(chunk, r, N), empty(chunk, r, N)
    if y is not None:
        dist_v_buf, both_buf = empty(r, N), empty(r, N)
    for start in range(0, N, r):
        stop = min(N, start + r)
        k = stop - start
        rows = xp.arange(k, device=dev)
        diagonal, w_rows = (rows, start + rows), w[start:stop]

        def column_terms(i0: int, i1: int) -> Any:
            """``D_i`` of the columns i0..i1-1, pre-scaled, into the term buffer."""
            if i1 - i0 == 1:
                term = term_buf[0, :k]
                _xp.subtract_outer(xt[i0, start:stop], xt[i0], out=term)
            else:
                term = term_buf[: i1 - i0, :k]
                _xp.subtract(xt[i0:i1, start:stop, None], xt[i0:i1, None, :], out=term)
            return _xp.square_(term)

        def row_sums(fill: Callable[[Any], Any], factor: float, largest: float, f: int = 0) -> Any:
            """Pair sums of the exponents that ``fill(out)`` writes: (rows x N) for ``f`` = 0 or 1,
            (f x rows x N) for a chunk of f > 1 features."""
            shape = (f, k, N) if f > 1 else (k, N)
            expo = fill(work_buf[:f, :k] if f > 1 else work_buf[0, :k])
            return _log_sums(xp, expo, w, w_rows, diagonal, include_self, factor * largest > limit,
                             lambda: fill(empty(*shape)))

        dist_x = dist_buf[:k]
        for i0 in range(0, n, chunk):
            term = column_terms(i0, min(n, i0 + chunk))
            if term.ndim == 2:  # a chunk of one feature
                if i0 == 0:
                    dist_x[...] = term
                else:
                    dist_x += term
            elif i0 == 0:
                _xp.sum_into(term, 0, out=dist_x)
            else:
                dist_x += xp.sum(term, axis=0)
        bound = float(xp.max(dist_x)) / c_comp  # largest unscaled distance of the block

        if y is not None:
            dist_v, both = dist_v_buf[:k], both_buf[:k]
            _squared_distances(yt, start, stop, dist_v, both)
            bound_v = float(xp.max(dist_v)) / c_comp
            v += float(row_sums(lambda out: _xp.multiply(dist_v, -c_v / c_comp, out=out), c_v, bound_v))
            _xp.add(dist_x, dist_v, out=both)
            joint_v += float(row_sums(lambda out: _xp.multiply(both, -c_joint_v / c_comp, out=out),
                                      c_joint_v, bound + bound_v))
            # rescaled for the complements' and singles' exponents with V, below
            both *= c_comp_v / c_comp
            dist_v *= c_single_v / c_comp
        joint += float(row_sums(lambda out: _xp.multiply(dist_x, -c_joint / c_comp, out=out), c_joint, bound))
        for i0 in range(0, n, chunk):
            i1 = min(n, i0 + chunk)
            f = i1 - i0
            # the terms are still in the buffer when the chunk holds every feature
            term = (term_buf[:f, :k] if f > 1 else term_buf[0, :k]) if chunk == n else column_terms(i0, i1)
            largest_single = max(range_sq[i0:i1])
            comp[i0:i1] += row_sums(lambda out: _xp.subtract(term, dist_x, out=out), c_comp, bound, f)
            if y is not None:
                # -c (D(X) - D_i + D(V)) and -c (D_i + D(V)) from the pre-scaled pieces
                def comp_v_expo(out):
                    _xp.multiply(term, c_comp_v / c_comp, out=out)
                    out -= both
                    return out

                def single_v_expo(out):
                    _xp.multiply(term, -c_single_v / c_comp, out=out)
                    out -= dist_v
                    return out

                comp_v[i0:i1] += row_sums(comp_v_expo, c_comp_v, bound + bound_v, f)
                single_v[i0:i1] += row_sums(single_v_expo, c_single_v, largest_single + bound_v, f)
            single[i0:i1] += row_sums(lambda out: _xp.multiply(term, -c_single / c_comp, out=out),
                                      c_single, largest_single, f)
    host = _xp.to_numpy
    if y is None:
        return _Sums(joint, host(single), host(comp))
    return _Sums(joint, host(single), host(comp), v, joint_v, host(single_v), host(comp_v))


# -- input preparation --------------------------------------------------------------------------
def _numbers(a: Any, name: str) -> Any:
    return float_numbers(a, name, "the KDE estimators need")


def _check_magnitude(x: Any, name: str, c: float) -> None:
    """``kde_upper`` works on raw distances: raise if ``c`` times a squared distance of ``x``
    (n columns, entries up to max |x|) can overflow, where ``inf - inf`` would give NaN."""
    xp = _xp.namespace(x)
    largest = float(xp.max(xp.abs(x)))
    # the squared distances themselves, and c times them, must stay finite (inf - inf is NaN)
    if 4.0 * x.shape[1] * max(c, 1.0) * largest * largest > 1e300:  # in float: at worst inf > 1e300
        raise ValueError(
            f"`{name}` has values of magnitude up to {largest:.3g}: their squared distances over "
            f"the noise variance overflow. kde_upper's noise is in the data's units: rescale `{name}` "
            "and `noise_variance` together (e.g. divide both by the largest value, squared for the "
            "variance), or use the scale-free 'kde' or 'gcmi' estimator."
        )


def _groups(b: np.ndarray) -> np.ndarray:
    """Dense codes 0..K-1 of the distinct rows of ``b``."""
    return np.unique(b, axis=0, return_inverse=True)[1].ravel()


def _drop_unweighted(w: np.ndarray | None, N: int, *arrays: Any):
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
    return w / w.sum(), tuple(_xp.rows(a, keep) for a in arrays)


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

    z: Any  # (samples, columns), in the data's namespace and on its device
    log_sigma: np.ndarray  # (columns,)
    n_eff: float  # Kish's effective sample size 1 / sum w^2 (N for uniform weights)
    log1m_w: float  # sum_i w_i log(1 - w_i): the leave-one-out normaliser


def _standardise(
    x: Any, w: np.ndarray, name: str, label: object = None, log_floor: np.ndarray | None = None
) -> _Standardised:
    """Centre and scale each column of ``x`` (on any device) by its weighted sigma, floored at
    ``exp(log_floor)`` (per column) if given; a constant column without a floor raises
    ``ValueError``. The floor comes as a log: for subnormal data it is below the float range."""
    xp = _xp.namespace(x)
    if log_floor is None:
        constant = np.flatnonzero(_xp.to_numpy(xp.all(x == x[:1, ...], axis=0)))
        if len(constant):
            where = "" if label is None else f" within the samples of class {label!r}"
            raise ValueError(
                f"`{name}` has constant column(s) {constant.tolist()}{where}: Scott's bandwidth is 0 "
                "there and the kernel density degenerates. Drop the constant columns first (or use "
                "the 'binning' or 'gcmi' estimator)."
            )
    # Columns of extreme magnitude (beyond 2^+-400: x * 1e154 squares to inf, x * 1e-200 to 0)
    # are first scaled by a power of two, which is exact: the standardised z, and so every
    # estimate, is the same as for ordinary data (MI is scale invariant), and log sigma gets
    # the exponent back. Ordinary columns are not touched, so their numbers stay as they were.
    top = _xp.to_numpy(xp.max(xp.abs(x), axis=0))
    exponent = np.frexp(top)[1]
    exponent = np.where(np.abs(exponent) > _SAFE_EXPONENT, exponent, 0)
    if exponent.any():
        # in two factors: 2^1073 (for a column of subnormals) is beyond the float range
        half = -exponent // 2
        x = x * _xp.asarray(np.ldexp(1.0, half), x) * _xp.asarray(np.ldexp(1.0, -exponent - half), x)
    wt = _xp.asarray(w, x)
    sum_w2 = float(w @ w)
    # weighted mean and reliability-weighted variance (the N - 1 denominator for uniform w)
    mean = wt @ x
    var = (wt @ xp.square(x - mean)) / (1.0 - sum_w2)
    if log_floor is not None:
        # the floor in the scaled units, kept within +-1e150 (beyond, the class's z is ~0, or
        # the floor is negligible; min_class_sigma >= 1e-100 keeps it above the lower bound)
        scaled = log_floor - exponent * _LN2
        bounded = np.clip(scaled, -_LOG_FLOOR_BOUND, _LOG_FLOOR_BOUND)
        var = xp.maximum(var, _xp.asarray(np.exp(2.0 * bounded), x))
    n_eff = float(len(w)) if np.all(w == w[0]) else 1.0 / sum_w2
    log_sigma = 0.5 * _xp.to_numpy(xp.log(var)) + exponent * _LN2
    if log_floor is not None and np.any(scaled > bounded):
        log_sigma = np.where(scaled > bounded, log_floor, log_sigma)
    return _Standardised((x - mean) / xp.sqrt(var), log_sigma, n_eff, float(w @ np.log1p(-w)))


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
    bandwidth_scale : float in [1e-4, 1e4], default 1.0
        Multiplies Scott's factor (values below 1 sharpen, above 1 smooth the densities). The
        bandwidth is relative to the standardised data: each column is centred and divided by
        its sigma first, so every estimate of I(A;B) is the same for A and for A scaled by any
        factor (1e-200 or 1e300 included).
    min_class_sigma : 0 or float in [1e-100, 1], default 1e-3
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
    - Negative MI is expected for (nearly) independent A and B: the leave-one-out entropies are
      biased, the joint's more than the marginals', so I(A;B) has a negative bias that shrinks
      with N. Independent standard normals (means over seeds, most negative draw in brackets):
      1-D A against 3 classes -0.065 (-0.21) bits at N = 40, -0.016 at N = 400, -0.004 at
      N = 4000; 2-D A against 3 classes -0.12 (-0.47), -0.035, -0.011; 1-D against 1-D -0.043
      (-0.23), -0.023, -0.011. Read such values as no information, not as an error.
    - Every column is standardised before the kernels are applied (the bandwidth is relative
      to the standardised data), so the MI does not depend on the data's scale; columns of
      extreme magnitude (1e-200, 1e300) are scaled by a power of two first, which is exact.
    """

    name = "kde"
    array_api = True

    def __init__(self, bandwidth_scale: float = 1.0, min_class_sigma: float = 1e-3, device: Any = None):
        self.bandwidth_scale = positive_float(bandwidth_scale, "bandwidth_scale")
        low, high = BANDWIDTH_SCALE_RANGE
        if not low <= self.bandwidth_scale <= high:
            raise ValueError(
                f"`bandwidth_scale` must be in [{low:g}, {high:g}] (a factor on Scott's bandwidth of "
                f"the standardised data), got {bandwidth_scale!r}: below, the kernels are spikes whose "
                "entropies lose every digit of the MI; above, they are flat and every MI is 0."
            )
        self.min_class_sigma = non_negative_float(min_class_sigma, "min_class_sigma")
        if not (self.min_class_sigma == 0 or 1e-100 <= self.min_class_sigma <= 1):
            raise ValueError(
                "`min_class_sigma` must be 0 (no floor) or in [1e-100, 1] (a fraction of each "
                f"column's sigma), got {min_class_sigma!r}."
            )
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
        """Per-column floor of the class sigmas, from the standardisation of all samples, as its
        natural log (``_standardise``'s ``log_floor``: for subnormal data the floor itself is
        below the float range); None without a floor."""
        if self.min_class_sigma == 0:
            return None
        return math.log(self.min_class_sigma) + g.log_sigma

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
        discrete = is_discrete(b)
        # Constant columns carry no information (class docstring).
        a = a[:, ~constant_columns(a, None)]
        if not discrete:
            b = b.astype(np.float64)[:, ~constant_columns(b, None)]
        if a.shape[1] == 0 or b.shape[1] == 0:
            return 0.0
        g = _standardise(a, w, "a")
        h_a = self._group_entropy(g, w)
        if discrete:
            log_floor = self.class_floor(g)
            conditional = 0.0
            for p, idx, wb in _class_parts(_groups(b), w):
                if np.count_nonzero(wb) < 2:
                    conditional += p * h_a  # too few samples: no information (class docstring)
                else:
                    gb = _standardise(a[idx], wb, "a", _label(b, idx[0]), log_floor)
                    conditional += p * self._group_entropy(gb, wb)
            return (h_a - conditional) / _LN2
        h_b = self._group_entropy(_standardise(b, w, "b"), w)
        return (h_a + h_b - self._group_entropy(_standardise(np.hstack([a, b]), w, "a"), w)) / _LN2

    def _group_leave_one_out(self, g: _Standardised, w: np.ndarray, y: np.ndarray | None = None):
        """Entropies (nats) of X, X_i, X_-i (and H(V), H(X,V), H(X_i,V), H(X_-i,V) with y, a
        continuous V on the host: standardised there, then moved next to ``g.z``)."""
        n = g.z.shape[1]
        gy = None if y is None else _standardise(y, w, "v")
        yz = None if gy is None else _xp.asarray(gy.z, g.z)
        s = _leave_one_out_sums(g.z, _xp.asarray(w, g.z), self._exponent(g.n_eff), False, yz)
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
        return leave_one_out_varying(self, _numbers(X, "X"), v, w, self._leave_one_out_varying, not is_discrete(v))

    def _leave_one_out_varying(self, X, v, w):
        """Leave-one-out of X (on any device) and v without constant columns."""
        w, (X, v) = _drop_unweighted(w, len(X), X, v)
        g = _standardise(X, w, "X")
        if not is_discrete(v):
            y = v.astype(np.float64)
            h_x, h_xi, h_xc, h_v, h_xv, h_xiv, h_xcv = self._group_leave_one_out(g, w, y=y)
            mi = (h_x + h_v - h_xv, h_xi + h_v - h_xiv, h_xc + h_v - h_xcv)
        else:
            h_all = self._group_leave_one_out(g, w)
            log_floor = self.class_floor(g)
            conditional = [0.0, np.zeros(X.shape[1]), np.zeros(X.shape[1])]
            for p, idx, wb in _class_parts(_groups(v), w):
                if np.count_nonzero(wb) < 2:
                    h_b = h_all  # too few samples: no information (class docstring)
                else:
                    gb = _standardise(_xp.rows(X, idx), wb, "X", _label(v, idx[0]), log_floor)
                    h_b = self._group_leave_one_out(gb, wb)
                conditional = [acc + p * h for acc, h in zip(conditional, h_b)]
            mi = tuple(h - hc for h, hc in zip(h_all, conditional))
        joint, single, complement = (x / _LN2 for x in mi)
        return LeaveOneOut(float(joint), single, complement)

    # -- subset entropies (the higher-order measures; SPEC 3) ------------------------------------
    def _entropies(self, X, w):
        # a subset's standardisation is the full one's columns, so the distance subtraction of
        # the module docstring gives every H(X_i) and H(X_-i) exactly
        X = _numbers(X, "X")
        w, (X,) = _drop_unweighted(w, len(X), X)
        joint, single, complement = self._group_leave_one_out(_standardise(X, w, "X"), w)
        return Entropies(float(joint) / _LN2, np.asarray(single) / _LN2, np.asarray(complement) / _LN2)

    def _pair_complement_entropies(self, X, w):
        X = _numbers(X, "X")
        w, (X,) = _drop_unweighted(w, len(X), X)
        g = _standardise(X, w, "X")
        n = X.shape[1]
        c = self._exponent(g.n_eff)
        pairs, complements = _pair_complement_sums(g.z, _xp.asarray(w, g.z), c(n - 2) if n > 2 else 1.0, c(n - 1),
                                                   False)
        total = g.log_sigma.sum()
        h = np.diag(self._nats(complements, g, n - 1, total - g.log_sigma) / _LN2)
        if n > 2:
            i, j = np.triu_indices(n, 1)
            h[i, j] = h[j, i] = self._nats(pairs, g, n - 2, total - g.log_sigma[i] - g.log_sigma[j]) / _LN2
        return h

    def _subset_entropies(self, X, w):
        """Batched subset entropies (``Estimator.subset_entropies``): X standardised once (a
        subset's standardisation is the full one's columns), each column's squared gaps of a
        block of rows computed once for the whole batch, and a subset's squared distances their
        sum in the subset's column order, as the direct computation adds them (module
        docstring); the exponentials are each subset's own."""
        X = _numbers(X, "X")
        w, (X,) = _drop_unweighted(w, len(X), X)
        g = _standardise(X, w, "X")
        zt = np.ascontiguousarray(_xp.to_numpy(g.z).T)
        N = zt.shape[1]

        def entropies(subsets: np.ndarray) -> np.ndarray:
            m, size = subsets.shape
            c = self._exponent(g.n_eff)(size)
            used = np.unique(subsets)
            slot = np.searchsorted(used, subsets)  # each subset's columns among the gaps kept
            r = _blocks(zt, N, size)[0]  # the direct computation's blocks, unless the gaps would not fit
            r = max(1, min(r, _SUBSET_GAP_ELEMENTS // (len(used) * N)))
            gaps, dist, tmp = np.empty((len(used), r, N)), np.empty((r, N)), np.empty((r, N))
            totals = np.zeros(m)
            for start in range(0, N, r):
                stop = min(N, start + r)
                k = stop - start
                for i, column in enumerate(used):
                    _xp.subtract_outer(zt[column, start:stop], zt[column], out=gaps[i, :k])
                    _xp.square_(gaps[i, :k])
                rows = np.arange(k)
                for j in range(m):
                    d = dist[:k]
                    d[...] = gaps[slot[j, 0], :k]
                    for i in slot[j, 1:]:
                        d += gaps[i, :k]
                    may_underflow = c * d.max() > -_EXP_FLOOR
                    np.multiply(d, -c, out=tmp[:k])
                    totals[j] += float(_log_sums(np, tmp[:k], w, w[start:stop], (rows, start + rows), False,
                                                 may_underflow, lambda: d * -c))
            return self._nats(totals, g, size, g.log_sigma[subsets].sum(axis=1)) / _LN2

        return entropies


# Squared gaps kept at once by the batched subset entropies (64 MB of float64).
_SUBSET_GAP_ELEMENTS = 1 << 23


# -- kde_upper -----------------------------------------------------------------------------------
_SKETCH_SEED = 0  # the sketch's column signs: one fixed Rademacher sequence, whatever the data


def sketch_columns(a: np.ndarray, width: int) -> np.ndarray:
    """``a`` (N, d) reduced to at most ``width`` columns by a fixed signed sum of column groups
    (a count sketch with a strided hash): with k = ceil(d / ceil(d / width)), column c is added
    with sign s_c into column c mod k; the signs are the first d of one fixed Rademacher
    sequence. Every squared distance is kept in expectation over the signs,
    E|S(u - v)|^2 = |u - v|^2, with relative spread about sqrt(2 / k) when the difference's
    energy is spread over its columns. ``a`` is returned as is when d <= width.
    """
    d = a.shape[1]
    if d <= width:
        return a
    folds = -(-d // width)
    k = -(-d // folds)
    signs = (2 * np.random.default_rng(_SKETCH_SEED).integers(0, 2, size=d) - 1).astype(a.dtype)
    out = a[:, :k] * signs[:k]
    for start in range(k, d, k):
        stop = min(d, start + k)
        out[:, : stop - start] += a[:, start:stop] * signs[start:stop]
    return out


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
    sketch : int, optional
        ``entropy`` and ``mutual_information`` only: a first argument wider than this is first
        reduced to at most ``sketch`` columns by :func:`sketch_columns` (squared distances kept
        in expectation), so that the pair sums of a wide layer cost N^2 * sketch instead of
        N^2 * d. None (default): no sketch.

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
    array_api = True

    def __init__(self, noise_variance: float = 1e-3, device: Any = None, sketch: int | None = None):
        self.noise_variance = positive_float(noise_variance, "noise_variance")
        self.sketch = None if sketch is None else positive_int(sketch, "sketch")
        self.device = check_device(device)

    def _sketched(self, a: np.ndarray) -> np.ndarray:
        return a if self.sketch is None else sketch_columns(a, self.sketch)

    def _unsketched(self, what: str) -> None:
        if self.sketch is not None:
            raise ValueError(f"`sketch` mixes the columns, so kde_upper's {what} (per column) needs sketch=None.")

    def _exponent(self, d: int) -> float:
        return 0.5 / self.noise_variance

    def _subtraction_keeps_digits(self, X: Any) -> bool:
        """Whether the fast paths' subtraction of distances (``D(X) - D_i``) keeps the digits of
        every subset's exponent: its rounding, at most eps * c * D(X) <= eps * c * sum_i range_i^2
        nats, must stay below 1e-7. Columns of very different ranges break it (a column of range
        1e19 beside one of range 1: the small one's distances vanish in the large one's); the
        subsets are then computed each on its own."""
        xp = _xp.namespace(X)
        spans = _xp.to_numpy(xp.max(X, axis=0) - xp.min(X, axis=0)).astype(np.float64)
        return float(np.sum(spans * spans)) * self._exponent(X.shape[1]) * np.finfo(np.float64).eps < 1e-7

    def _entropy(self, a, w):
        a = self._sketched(_numbers(a, "a"))
        _check_magnitude(a, "a", self._exponent(a.shape[1]))
        w, (a,) = _drop_unweighted(w, len(a), a)
        d = a.shape[1]
        s = _pair_sum(a, w, self._exponent(d), include_self=True)
        return (-s + 0.5 * d * math.log(2.0 * math.pi * math.e * self.noise_variance)) / _LN2

    def _mutual_information(self, a, b, w):
        a = self._sketched(_numbers(a, "a"))
        _check_magnitude(a, "a", self._exponent(a.shape[1]))
        w, (a, b) = _drop_unweighted(w, len(a), a, b)
        c = self._exponent(a.shape[1])
        # The (d/2) log(2 pi e s2) terms cancel; a single-sample class has a pair sum of 0.
        mi = -_pair_sum(a, w, c, include_self=True)
        for p, idx, wb in _class_parts(_groups(b), w):
            if len(idx) > 1:
                mi += p * _pair_sum(a[idx], wb, c, include_self=True)
        return mi / _LN2

    def _leave_one_out(self, X, v, w):
        self._unsketched("leave_one_out")
        X = _numbers(X, "X")
        _check_magnitude(X, "X", self._exponent(X.shape[1]))
        if not self._subtraction_keeps_digits(X):
            return self.leave_one_out_direct(_xp.to_numpy(X), v, w)
        w, (X, v) = _drop_unweighted(w, len(X), X, v)
        wt = _xp.asarray(w, X)
        s = _leave_one_out_sums(X, wt, self._exponent, include_self=True)
        mi = [-s.joint, -s.single, -s.complement]
        for p, idx, wb in _class_parts(_groups(v), w):
            if len(idx) > 1:
                sb = _leave_one_out_sums(_xp.rows(X, idx), _xp.asarray(wb, X), self._exponent, include_self=True)
                mi = [acc + p * x for acc, x in zip(mi, sb[:3])]
        joint, single, complement = (x / _LN2 for x in mi)
        return LeaveOneOut(float(joint), single, complement)

    # -- subset entropies (the higher-order measures; SPEC 3) ------------------------------------
    def _entropies(self, X, w):
        self._unsketched("entropies")
        X = _numbers(X, "X")
        _check_magnitude(X, "X", self._exponent(X.shape[1]))
        if not self._subtraction_keeps_digits(X):
            return super()._entropies(X, w)
        w, (X,) = _drop_unweighted(w, len(X), X)
        n = X.shape[1]
        s = _leave_one_out_sums(X, _xp.asarray(w, X), self._exponent, include_self=True)
        noise = 0.5 * math.log(2.0 * math.pi * math.e * self.noise_variance)  # per dimension, nats
        return Entropies(float(-s.joint + n * noise) / _LN2, (-s.single + noise) / _LN2,
                         (-s.complement + (n - 1) * noise) / _LN2)

    def _pair_complement_entropies(self, X, w):
        self._unsketched("pair_complement_entropies")
        X = _numbers(X, "X")
        _check_magnitude(X, "X", self._exponent(X.shape[1]))
        if not self._subtraction_keeps_digits(X):
            return super()._pair_complement_entropies(X, w)
        w, (X,) = _drop_unweighted(w, len(X), X)
        n = X.shape[1]
        c = self._exponent(n)
        pairs, complements = _pair_complement_sums(X, _xp.asarray(w, X), c, c, True)
        noise = 0.5 * math.log(2.0 * math.pi * math.e * self.noise_variance)  # per dimension, nats
        h = np.diag((-complements + (n - 1) * noise) / _LN2)
        if n > 2:
            i, j = np.triu_indices(n, 1)
            h[i, j] = h[j, i] = (-pairs + (n - 2) * noise) / _LN2
        return h


# -- pair complements (the per-feature higher-order measures) -------------------------------------
def _pair_complement_sums(x: Any, w: Any, c_pair: float, c_complement: float,
                          include_self: bool) -> tuple[np.ndarray, np.ndarray]:
    """``S = sum_i w_i L_i`` of every X_-{i,j} (i < j, in ``numpy.triu_indices(n, 1)`` order) and
    of every X_-i, by ``D(X_-{i,j}) = D(X) - D_i - D_j`` and ``D(X_-i) = D(X) - D_i`` (the module
    docstring's subtraction): a block of rows builds every column term D_k and D(X) once, then
    each subset costs one or two subtractions and its exponentials. ``c_pair`` and
    ``c_complement`` are the exponent's factors for n - 2 and n - 1 columns; ``x`` and ``w`` are
    in one namespace, on one device. Returns host arrays (pair sums, complement sums).
    """
    xp = _xp.namespace(x)
    dev = _xp.device(x)
    N, n = x.shape
    first, second = np.triu_indices(n, 1)
    # columns pre-scaled by sqrt(c_pair): a pair's exponents are D_i + D_j - D(X), and a
    # complement's are (D_i - D(X)) rescaled by c_complement / c_pair
    xt = _xp.contiguous(x.T * math.sqrt(c_pair))
    ratio = c_complement / c_pair
    rows_budget, _ = _blocks(x, N, 1)
    # every column's terms of a block are kept: at most ~4 M elements (32 MB) of them
    r = max(1, min(rows_budget, (1 << 22) // (n * N)))
    pairs = xp.zeros(len(first), dtype=xp.float64, device=dev)
    complements = xp.zeros(n, dtype=xp.float64, device=dev)
    empty = lambda *shape: xp.empty(shape, dtype=xp.float64, device=dev)  # noqa: E731
    terms_buf, dist_buf, work_buf = empty(n, r, N), empty(r, N), empty(r, N)
    for start in range(0, N, r):
        stop = min(N, start + r)
        k = stop - start
        rows = xp.arange(k, device=dev)
        diagonal, w_rows = (rows, start + rows), w[start:stop]
        terms, dist = terms_buf[:, :k], dist_buf[:k]
        _xp.subtract(xt[:, start:stop, None], xt[:, None, :], out=terms)
        _xp.square_(terms)
        _xp.sum_into(terms, 0, out=dist)
        largest = float(xp.max(dist))  # exponents reach -700 only if some factor * D(X) does

        def row_sums(fill, factor):
            return _log_sums(xp, fill(work_buf[:k]), w, w_rows, diagonal, include_self, factor * largest > -_EXP_FLOOR,
                             lambda: fill(empty(k, N)))

        for i in range(n):
            def complement(out, i=i):
                _xp.subtract(terms[i], dist, out=out)
                out *= ratio
                return out

            complements[i] += row_sums(complement, ratio)
        for p, (i, j) in enumerate(zip(first.tolist(), second.tolist())):
            def pair(out, i=i, j=j):
                _xp.subtract(terms[i], dist, out=out)
                out += terms[j]
                return out

            pairs[p] += row_sums(pair, 1.0)
    return _xp.to_numpy(pairs), _xp.to_numpy(complements)
