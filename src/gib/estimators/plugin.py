"""Plug-in (histogram) estimators: ``discrete`` and ``binning`` (SPEC 3).

Both turn every column into non-negative integer codes and estimate entropies of the empirical
(optionally weighted) distribution of code rows. With sample weights the estimate is exact for
the weighted empirical distribution, which is what the PMI-reweighted Z of SPEC 2 asks for.

The fast leave-one-out path (SPEC 3, last bullet)
-------------------------------------------------
Each row of codes gets one 64-bit key ``h = sum_j r_j * c_j (mod 2^64)`` with fixed random
multipliers ``r_j``; the key of ``X_-i`` is ``h - r_i * c_i``, one subtraction per column. The
target's code sits in the low ``b`` bits of each key, so a single sort of the n + 1 key columns
(the joint and every complement) yields both H(X_S) and H(X_S, V). Singles come from contingency
tables (one ``bincount``), without sorting.

Collision bound. Two different code rows collide in one key column only if
``sum_j r_j d_j = 0 (mod 2^(64-b))`` for their difference d != 0; over the random multipliers this
has probability at most ``K / 2^(64-b)``, where K is the largest code value + 1 (the 2-adic
valuation of a nonzero |d_j| < K is below log2 K). Over the n + 1 key columns and N^2/2 pairs,
``P(any collision) <= (n + 1) * N^2 * K * 2^b / 2^65``: for N = 5000, n = 3072, K = 30, b = 7
that is below 1e-7. Tests compare the fast path with exact per-subset counting.

One implementation for NumPy and torch (``gib._xp``): the keys are int64, whose wrap-around
products and sums carry the same bits as uint64 (torch has no uint64 arithmetic); a signed sort
keeps equal keys together, and the arithmetic right shift maps equal high bits to equal values
whose runs the signed sort also keeps together.
"""

from __future__ import annotations

import functools
import math
import warnings
from typing import Any

import numpy as np

from .. import _xp
from ..exceptions import SaturationWarning, docs_link, outside_stacklevel
from .._validation import as_samples, one_of, positive_float, positive_int
from .base import Entropies, Estimator, LeaveOneOut, check_device, register

_LN2 = math.log(2.0)
_SEED = 0x6C8E9CF570932BD5
# Key columns processed at once in the leave-one-out path (bounds memory to ~128 MB a block).
_BLOCK_ELEMENTS = 1 << 24
# Elements of the row blocks of compact_codes (2 MB of float32: the buffer stays in cache).
_ROW_BLOCK_ELEMENTS = 1 << 19
# Integer codes whose column spans less than this are shifted by their minimum; wider columns
# get dense codes by sorting (exact, and no offset or product of ranges can overflow int64).
_SMALL_SPAN = 1 << 24


def _multipliers(n: int) -> np.ndarray:
    """The fixed random odd 64-bit multipliers of the row keys, as int64 (torch has no uint64
    arithmetic; wrap-around products and sums give the same bits either way)."""
    rng = np.random.default_rng(_SEED)
    r = rng.integers(0, np.iinfo(np.uint64).max, size=n, dtype=np.uint64, endpoint=True) | np.uint64(1)
    return r.view(np.int64)


def _key_terms(codes: Any) -> tuple[Any, Any]:
    """(column terms r_i * c_i of the row keys, (n, N); the full row keys h, (N,)), int64
    wrapping modulo 2^64 (module docstring): the key of X_S is h minus the terms outside S."""
    xp = _xp.namespace(codes)
    r = _xp.asarray(_multipliers(codes.shape[1]), codes)
    terms = xp.astype(codes.T, xp.int64, copy=True)
    terms *= r[:, None]
    return terms, xp.sum(terms, axis=0)


def _complement_keys(terms: Any, h_all: Any, start: int, stop: int) -> Any:
    """Row keys of the subsets start..stop-1 of (X, X_-0, X_-1, ...): key row 0 is X's, key row
    i >= 1 is X_-(i-1)'s, one subtraction of its column's term (``_key_terms``)."""
    xp = _xp.namespace(h_all)
    out = xp.empty((stop - start, h_all.shape[0]), dtype=xp.int64, device=_xp.device(h_all))
    lo = max(start, 1)
    if start == 0:
        out[0, :] = h_all
    _xp.subtract(h_all[None, :], terms[lo - 1 : stop - 1, :], out=out[lo - start :, :])
    return out


def _column_codes(a: Any) -> Any:
    """Non-negative int64 codes per column of already-discrete data (labels, integers), exact for
    every representable value.

    Integer columns (and floats that are whole numbers inside the int64 range) whose range is
    below 2^24 are shifted by their minimum (fast, and the codes keep the values' order and
    gaps); any other column gets dense codes 0..K-1 by sorting its values (``_dense_columns``),
    so neither the offset ``a - min`` nor a later product of ranges can overflow int64 (a
    uint64 column is cast to int64 first: the wrap-around is one-to-one, so labels stay apart).
    """
    xp = np if _xp.is_numpy(a) else _xp.namespace(a)  # NumPy itself: no namespace lookup on small arrays
    kind = _xp.kind(a)
    if kind == "f":
        # floats at or beyond 2^63 (1e300, 2.**64) have no int64 value: sort them as they are
        # (compared as Python floats: 2^63 overflows float16, whose columns would warn)
        in_range = bool(xp.all(a == xp.round(a))) and float(xp.min(a)) >= -(2.0**63) and float(xp.max(a)) < 2.0**63
        if not in_range:
            return _dense_columns(a)
    if kind in "biuf":
        a = xp.astype(a, xp.int64, copy=False)  # floats: exact after the checks above
        lo, hi = xp.min(a, axis=0), xp.max(a, axis=0)
        # the range in float64: int64's hi - lo wraps for ranges of 2^63 and more
        span = _xp.to_numpy(hi).astype(np.float64) - _xp.to_numpy(lo).astype(np.float64)
        if bool(np.all(span < _SMALL_SPAN)):
            return a - lo
    return _dense_columns(a)


def _dense_columns(a: Any) -> Any:
    """Dense codes 0..K_j-1 of each column's distinct values (by sorting: exact for any dtype)."""
    xp = _xp.namespace(a)
    codes = xp.empty(a.shape, dtype=xp.int64, device=_xp.device(a))
    for j in range(a.shape[1]):
        codes[:, j] = xp.reshape(xp.unique_inverse(a[:, j]).inverse_indices, (-1,))
    return codes


def row_codes(codes: np.ndarray, sizes: Any = None, dense: bool = True) -> np.ndarray:
    """Dense codes 0..K-1 of the distinct rows of a 2-D array of non-negative integer codes
    (e.g. :meth:`BinningEstimator.codes`), in the order of the sorted rows; exact.

    Narrow rows whose codes fit 62 bits are one mixed-radix number each; wider rows are compared
    as bytes: the codes are stored in the smallest unsigned type that holds them and each row is
    one opaque value for the sort, so no row is ever hashed (no collisions) and a 12,544-wide
    row costs one byte per column. Tensors (on any device) get one mixed-radix number or a
    64-bit hash per row (:func:`_multipliers`) and a sort on their device.

    ``sizes`` (NumPy only), optional: a bound per column, every code of column j below
    ``sizes[j]`` (``n_bins`` for equal-width bins), which spares the pass for the columns'
    maxima. The result is the same: any mixed radix whose digits hold the codes orders the rows
    as the codes do (the last column most significant), and where the bounds would not fit 62
    bits the maxima are taken.

    ``dense=False`` (NumPy only): where the rows' mixed-radix numbers span more than a table can
    rank, those numbers themselves, unranked: non-negative int64 ordered as the rows, for
    :func:`code_entropy` and :func:`code_informations`, which count them by sorting and give
    the numbers of the dense codes (the IB plane's layers: one sort instead of a ranking).
    """
    if not _xp.is_numpy(codes):
        return _tensor_row_codes(codes)
    codes = np.asarray(codes)
    if codes.ndim == 1:
        codes = codes[:, None]
    if codes.shape[1] == 1:
        column = codes[:, 0]
        if column.dtype.kind in "bu" or (column.dtype.kind == "i" and len(column) and column.min() >= 0):
            return _dense_ranks(column, int(column.max()) + 1 if len(column) else 0)
        return np.unique(column, return_inverse=True)[1].ravel()
    if codes.dtype.kind not in "bu" and codes.min() < 0:  # not codes: the mixed radix needs codes >= 0
        codes = _dense_columns(codes)
    k = None if sizes is None else np.asarray(sizes, dtype=np.float64)
    if k is None or not np.sum(np.log2(k)) < 62:
        k = codes.max(axis=0).astype(np.float64) + 1
    if np.sum(np.log2(k)) < 62:
        k = k.astype(np.int64)
        radix = np.cumprod(np.concatenate(([1], k[:-1])))
        keys, bound = codes @ radix, int(radix[-1] * k[-1])
        if not dense and bound > _TABLE_FACTOR * len(keys) + _TABLE_SLACK:
            return keys
        return _dense_ranks(keys, bound)
    packed = np.ascontiguousarray(_compact(codes))
    rows = packed.view(np.dtype((np.void, packed.dtype.itemsize * packed.shape[1]))).ravel()
    return np.unique(rows, return_inverse=True)[1].ravel()


# Codes below TABLE_FACTOR * N + TABLE_SLACK are counted in a table (bincount), wider ones by sorting.
_TABLE_FACTOR, _TABLE_SLACK = 8, 1024


def _dense_ranks(keys: np.ndarray, bound: int) -> np.ndarray:
    """``np.unique(keys, return_inverse=True)[1]`` of non-negative integer keys below ``bound``:
    the rank of each key among the distinct keys. Keys of a small range are ranked from their
    histogram (no sort: the occupied values in increasing order are the distinct keys sorted),
    the same int64 codes."""
    if bound > _TABLE_FACTOR * len(keys) + _TABLE_SLACK:
        return np.unique(keys, return_inverse=True)[1].ravel()
    keys = keys.astype(np.intp, copy=False)  # bool and unsigned keys as indices
    occupied = np.flatnonzero(np.bincount(keys, minlength=bound))
    rank = np.empty(bound, dtype=np.int64)
    rank[occupied] = np.arange(len(occupied), dtype=np.int64)
    return rank[keys]


def _tensor_row_codes(codes: Any) -> Any:
    """``row_codes`` of a tensor of codes, on its device."""
    xp = _xp.namespace(codes)
    if codes.shape[1] == 1:
        col = codes[:, 0]
    else:
        k = _xp.to_numpy(xp.max(codes, axis=0)).astype(np.int64) + 1
        if np.sum(np.log2(k.astype(np.float64))) < 62:
            radix = np.cumprod(np.concatenate(([1], k[:-1])))
        else:
            radix = _multipliers(codes.shape[1])  # a 64-bit hash: products and sums wrap around
        col = xp.sum(codes * _xp.asarray(radix, codes), axis=1)
    return xp.unique_inverse(col).inverse_indices

def code_information(a: np.ndarray, b: np.ndarray, miller_madow: bool = False) -> float:
    """The plug-in I(A;B) in bits of two variables given as dense codes 0..K-1 (:func:`row_codes`),
    unweighted: the information of their partitions, from counts (no sort when the joint table
    is small). Equal to any plug-in estimator's ``mutual_information`` on the variables coded."""
    n = len(a)
    ka, kb = int(a.max()) + 1, int(b.max()) + 1
    joint = a.astype(np.int64) * kb + b
    cells = np.bincount(joint, minlength=ka * kb) if ka * kb <= 8 * n else np.unique(joint, return_counts=True)[1]
    h = [_entropy_bits(c[c > 0] / n, n, miller_madow) for c in (np.bincount(a), np.bincount(b), cells)]
    return h[0] + h[1] - h[2]


def discrete_codes(a: Any, name: str = "a", n_bins: int = 30) -> np.ndarray:
    """One integer code per sample for a (possibly multi-column) variable.

    Floating-point columns are binned in ``n_bins`` equal-width bins (regression outputs,
    SPEC 2); labels and integers pass through. Returns dense codes 0..K-1 (NumPy).

    Parameters
    ----------
    a : array-like or tensor, shape (N,) or (N, n)
        The variable; checked like any estimator input (``name`` is used in the errors).
    name : str
        The argument's name in error messages.
    n_bins : int, default 30
        Bins per floating-point column.
    """
    return row_codes(BinningEstimator(n_bins=n_bins).codes(as_samples(a, name)))


def _probabilities(cell: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    p = np.bincount(cell, weights=w).astype(np.float64)
    p = p[p > 0]
    return p / p.sum()


def _entropy_bits(p: np.ndarray, n_samples: int, miller_madow: bool) -> float:
    h = -float(np.sum(p * np.log(p)))
    if miller_madow:
        h += (np.count_nonzero(p) - 1) / (2.0 * n_samples)
    return h / _LN2 + 0.0  # a constant -0.0 reads as 0


def _group_entropies(key: Any, ws: Any | None, miller_madow: bool, n_eff: int) -> Any:
    """Entropy (nats) of each row of sorted ``key``, a variable whose groups are runs of equal values.

    Unweighted counts are integers, so sum c log c comes from a lookup table instead of logs;
    rows whose values are all distinct (common for wide X_-i) are log N without grouping.
    """
    xp = _xp.namespace(key)
    dev = _xp.device(key)
    m, N = key.shape
    change = key[:, 1:] != key[:, :-1]
    n_cells = xp.astype(xp.sum(change, axis=1), xp.float64) + 1
    h = xp.full(m, math.log(N), dtype=xp.float64, device=dev)
    todo = xp.nonzero(n_cells < N)[0] if ws is None else xp.arange(m, device=dev)
    if todo.shape[0]:
        flags = xp.ones((todo.shape[0], N), dtype=xp.bool, device=dev)
        flags[:, 1:] = change[todo, :]
        starts = xp.nonzero(xp.reshape(flags, (-1,)))[0]
        rows = starts // N
        if ws is None:
            end = xp.asarray([todo.shape[0] * N], dtype=starts.dtype, device=dev)
            sizes = xp.concat((starts[1:], end)) - starts
            counts = xp.arange(N + 1, dtype=xp.float64, device=dev)
            table = counts * xp.log(xp.where(counts > 0, counts, 1.0))  # c log c, 0 at c = 0
            plogp = _xp.bincount(rows, weights=xp.take(table, sizes), minlength=todo.shape[0])
            h[todo] = math.log(N) - plogp / N
        else:
            p = _xp.run_sums(xp.reshape(ws[todo, :], (-1,)), starts)
            h[todo] = -_xp.bincount(rows, weights=p * xp.log(xp.where(p > 0, p, 1.0)), minlength=todo.shape[0])
            # cells whose samples all have zero weight are not occupied
            n_cells = _xp.bincount(rows, weights=xp.astype(p > 0, xp.float64), minlength=todo.shape[0])
    if miller_madow:
        h += (n_cells - 1) / (2.0 * n_eff)
    return h


def _sorted_entropies(keys: Any, w: Any | None, shift: int, miller_madow: bool, n_eff: int):
    """Entropies (bits) of each row of ``keys`` as a variable, with and without its low bits.

    Returns (H of the keys' high bits, H of the whole keys), each of shape (rows,). The keys
    are signed: the arithmetic shift maps equal high bits to equal values, and keeps the runs
    of the signed sort contiguous.
    """
    if w is None:
        s, ws = _xp.sort(keys, axis=1), None
    else:
        s, order = _xp.sort_with_indices(keys, axis=1)
        ws = w[order]
    h_high = _group_entropies(s >> shift, ws, miller_madow, n_eff)
    h_all = _group_entropies(s, ws, miller_madow, n_eff)
    return h_high / _LN2, h_all / _LN2


def _bin_scale(lo: Any, hi: Any, n_bins: int) -> tuple[Any, Any, Any]:
    """(factor, lo, scale) of equal-width bins over [lo, hi] per column: the bin of x is
    floor((x - lo) * scale), or floor((x * factor - lo) * scale) with lo already multiplied by
    the factor when a column needs one, without overflow.

    Ordinary columns get no factor (None), so their codes are bit-for-bit those of
    ``(x - lo) * (n_bins / width)``. A column whose width overflows (values near +-1.7e308) is
    halved first, and one so narrow that ``n_bins / width`` overflows (a width below ~1e-307)
    is scaled up by 2^(maxexp / 2): multiplying by a power of two is exact, so the bins stay
    those of the exact width.
    """
    xp = np if _xp.is_numpy(lo) else _xp.namespace(lo)  # NumPy itself: no namespace lookup on small arrays
    with np.errstate(over="ignore"):  # detected below
        width = xp.where(hi > lo, hi - lo, xp.ones_like(hi))
        scale = xp.full_like(width, n_bins) / width
    wide, narrow = ~xp.isfinite(width), ~xp.isfinite(scale)
    if not bool(xp.any(wide | narrow)):
        return None, lo, scale
    up = float(2.0 ** (np.finfo(_xp.to_numpy(width[:1]).dtype).maxexp // 2))
    factor = xp.where(wide, xp.full_like(width, 0.5), xp.where(narrow, xp.full_like(width, up), xp.ones_like(width)))
    lo, hi = lo * factor, hi * factor
    width = xp.where(hi > lo, hi - lo, xp.ones_like(hi))
    return factor, lo, xp.full_like(width, n_bins) / width


class PlugInEstimator(Estimator):
    """Shared machinery of the histogram estimators; subclasses define ``codes``."""

    bias: str = "none"
    warn_saturation: bool = False
    array_api = True

    def codes(self, a: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def compact_codes(self, a: np.ndarray) -> np.ndarray:
        """``codes(a)`` in the smallest unsigned integer type that holds them (NumPy; a tensor's
        codes come back as ``codes`` gives them)."""
        return _compact(self.codes(a)) if _xp.is_numpy(a) else self.codes(a)

    def compact_row_codes(self, a: np.ndarray, blocks: list[tuple[int, int]] | None = None,
                          dense: bool = True) -> Any:
        """``row_codes(self.compact_codes(a), dense=dense)``: dense codes of the distinct rows of
        ``a``'s codes (NumPy; ``dense=False``: see ``row_codes``). With ``blocks``, a list of column
        ranges (start, stop): the list of ``compact_row_codes(a[:, start:stop])`` of every block
        (several layers side by side)."""
        if blocks is not None:
            return [self.compact_row_codes(a[:, start:stop], dense=dense) for start, stop in blocks]
        return row_codes(self.compact_codes(a), dense=dense)

    def _warn_saturated(self, n_samples: int, stacklevel: int | None = None) -> None:
        warnings.warn(
            f"{self.name} estimate saturated: all {n_samples} rows of X are distinct, so I(X;V) = H(V): the "
            f"joint is at its ceiling (fewer bins or features, or more samples).\n  See "
            f"{docs_link('estimators', 'saturation')}",
            SaturationWarning,
            stacklevel=outside_stacklevel() if stacklevel is None else stacklevel,
        )

    @property
    def _miller_madow(self) -> bool:
        return self.bias == "miller-madow"

    def _n_eff(self, w: np.ndarray | None, n: int) -> int:
        return n if w is None else int(np.count_nonzero(w))

    def _entropy(self, a, w):
        cell = row_codes(self.codes(a))
        return _entropy_bits(_probabilities(cell, w), self._n_eff(w, len(a)), self._miller_madow)

    def _mutual_information(self, a, b, w):
        ca, cb = self.codes(a), self.codes(b)
        n_eff = self._n_eff(w, len(a))
        h = [
            _entropy_bits(_probabilities(row_codes(c), w), n_eff, self._miller_madow)
            for c in (ca, cb, np.hstack([ca, cb]))
        ]
        return h[0] + h[1] - h[2]

    def _leave_one_out(self, X, v, w):
        xp = _xp.namespace(X)
        codes = self.codes(X)
        vcode = row_codes(self.codes(v))  # V on the host
        N, n = codes.shape
        n_eff = self._n_eff(w, N)
        k_v = int(vcode.max()) + 1
        shift = max(1, int(k_v - 1).bit_length())
        h_v = _entropy_bits(_probabilities(vcode, w), n_eff, self._miller_madow)
        vt = _xp.asarray(vcode, codes)
        wt = None if w is None else _xp.asarray(w, codes)

        terms, h_all = _key_terms(codes)
        block = max(1, _BLOCK_ELEMENTS // N)
        hx = xp.empty(n + 1, dtype=xp.float64, device=_xp.device(codes))
        hxv = xp.empty(n + 1, dtype=xp.float64, device=_xp.device(codes))
        for start in range(0, n + 1, block):
            stop = min(n + 1, start + block)
            keys = _complement_keys(terms, h_all, start, stop)
            keys <<= shift
            keys |= vt
            hx[start:stop], hxv[start:stop] = _sorted_entropies(keys, wt, shift, self._miller_madow, n_eff)
        mi = _xp.to_numpy(hx + h_v - hxv)
        if self.warn_saturation:
            s = _xp.sort(h_all)
            if int(xp.sum(s[1:] != s[:-1])) == N - 1:
                self._warn_saturated(N)
        single = _xp.to_numpy(self._single_information(codes, vt, k_v, wt, n_eff, h_v))
        return LeaveOneOut(float(mi[0]), single, mi[1:])

    def _single_information(self, codes, vcode, k_v, w, n_eff, h_v):
        """I(X_i;V) for every column from contingency tables (or by sorting, for wide codes)."""
        xp = _xp.namespace(codes)
        N, n = codes.shape
        k = int(xp.max(codes)) + 1
        if n * k * k_v <= max(1 << 22, 4 * N * n):
            cell = xp.arange(n, device=_xp.device(codes))[None, :] * k + codes  # (N, n): column-offset value code
            cell = cell * k_v + vcode[:, None]
            weights = None if w is None else xp.reshape(xp.broadcast_to(w[:, None], cell.shape), (-1,))
            table = _xp.bincount(xp.reshape(cell, (-1,)), weights=weights, minlength=n * k * k_v)
            table = xp.reshape(xp.astype(table, xp.float64), (n, k, k_v)) / (N if w is None else 1.0)
            hx = self._table_entropy(xp.sum(table, axis=2), n_eff)
            hxv = self._table_entropy(xp.reshape(table, (n, k * k_v)), n_eff)
            return hx + h_v - hxv
        shift = max(1, int(k_v - 1).bit_length())
        keys = (xp.astype(codes.T, xp.int64) << shift) | vcode
        hx, hxv = _sorted_entropies(keys, w, shift, self._miller_madow, n_eff)
        return hx + h_v - hxv

    def _table_entropy(self, p: Any, n_eff: int) -> Any:
        xp = _xp.namespace(p)
        positive = p > 0
        h = -xp.sum(xp.where(positive, p * xp.log(xp.where(positive, p, 1.0)), 0.0), axis=1)
        if self._miller_madow:
            h += (xp.astype(xp.sum(positive, axis=1), xp.float64) - 1) / (2.0 * n_eff)
        return h / _LN2

    # -- subset entropies (the higher-order measures; SPEC 3) ------------------------------------
    def _entropies(self, X, w):
        xp = _xp.namespace(X)
        codes = self.codes(X)
        N, n = codes.shape
        dev = _xp.device(codes)
        n_eff = self._n_eff(w, N)
        wt = None if w is None else _xp.asarray(w, codes)
        terms, h_all = _key_terms(codes)
        keys = lambda start, stop: _complement_keys(terms, h_all, start, stop)  # noqa: E731
        h = _xp.to_numpy(_key_entropies(keys, n + 1, N, wt, self._miller_madow, n_eff))
        k = int(xp.max(codes)) + 1
        if n * k <= max(1 << 22, 4 * N * n):  # singles from one table of counts
            cell = xp.arange(n, device=dev)[None, :] * k + codes
            weights = None if wt is None else xp.reshape(xp.broadcast_to(wt[:, None], cell.shape), (-1,))
            table = _xp.bincount(xp.reshape(cell, (-1,)), weights=weights, minlength=n * k)
            table = xp.reshape(xp.astype(table, xp.float64), (n, k)) / (N if w is None else 1.0)
            single = self._table_entropy(table, n_eff)
        else:  # wide codes: one sort per column
            single = _key_entropies(lambda start, stop: xp.astype(codes.T[start:stop, :], xp.int64), n, N, wt,
                                    self._miller_madow, n_eff)
        return Entropies(float(h[0]), _xp.to_numpy(single), h[1:])

    def _pair_complement_entropies(self, X, w):
        xp = _xp.namespace(X)
        codes = self.codes(X)
        N, n = codes.shape
        wt = None if w is None else _xp.asarray(w, codes)
        terms, h_all = _key_terms(codes)
        # the pairs i <= j (with 2 features only i = j: X_-{0,1} is empty, of entropy 0); the key
        # of X_-{i,j} is h - r_i c_i - r_j c_j, and on the diagonal X_-i's, h - r_i c_i, from a
        # zero term at index n
        first, second = np.triu_indices(n) if n > 2 else (np.arange(n), np.arange(n))
        terms = xp.concat((terms, xp.zeros((1, N), dtype=xp.int64, device=_xp.device(codes))))
        i_index = _xp.asarray(first.astype(np.int64), codes)
        j_index = _xp.asarray(np.where(first == second, n, second).astype(np.int64), codes)

        def keys(start, stop):
            out = h_all[None, :] - xp.take(terms, i_index[start:stop], axis=0)
            out -= xp.take(terms, j_index[start:stop], axis=0)
            return out

        h = _xp.to_numpy(_key_entropies(keys, len(first), N, wt, self._miller_madow, self._n_eff(w, N)))
        out = np.zeros((n, n))
        out[first, second] = h
        out[second, first] = h
        return out

    def _subset_entropies(self, X, w):
        """Batched subset entropies (``Estimator.subset_entropies``): X coded once; a subset whose
        cells fit a small table (the product of its columns' numbers of codes) is counted with one
        ``bincount`` per block of subsets, a wider one by sorting its row keys, the sums of its
        columns' terms r_j c_j (module docstring; the collision bound of ``_key_entropies``)."""
        codes = _xp.to_numpy(self.codes(X))
        N = codes.shape[0]
        n_eff = self._n_eff(w, N)
        sizes = codes.max(axis=0).astype(np.int64) + 1
        log_sizes = np.log2(sizes.astype(np.float64))
        codes_t = np.ascontiguousarray(codes.T, dtype=np.int64)
        # a table beats a sort of N keys while it has at most a few cells a sample
        table_bits = math.log2(min(_SUBSET_TABLE_CELLS, _TABLE_FACTOR * N)) + 1e-9
        terms = None  # the hashed keys' column terms, made when a subset needs them

        def entropies(subsets: np.ndarray) -> np.ndarray:
            nonlocal terms
            m = len(subsets)
            h = np.empty(m)
            small = np.sum(log_sizes[subsets], axis=1) <= table_bits
            rows = np.flatnonzero(small)
            if len(rows):
                h[rows] = _table_subset_entropies(codes_t, sizes, subsets[rows], w, self._miller_madow, n_eff)
            rows = np.flatnonzero(~small)
            if len(rows):
                if terms is None:
                    terms = _key_terms(codes)[0]
                chosen = subsets[rows]

                def keys(start: int, stop: int) -> np.ndarray:
                    out = terms[chosen[start:stop, 0]].copy()
                    for j in range(1, chosen.shape[1]):
                        out += terms[chosen[start:stop, j]]
                    return out

                h[rows] = _key_entropies(keys, len(rows), N, w, self._miller_madow, n_eff)
            return h

        return entropies


# Subsets whose product of column code counts is at most this many cells are counted in a table.
_SUBSET_TABLE_CELLS = 1 << 16


def _table_subset_entropies(codes_t: np.ndarray, sizes: np.ndarray, subsets: np.ndarray, w: np.ndarray | None,
                            miller_madow: bool, n_eff: int) -> np.ndarray:
    """Plug-in entropies (bits) of column subsets whose cells fit a small table: each subset's
    rows as mixed-radix numbers (exact), the tables of a block of subsets side by side at
    offsets, counted by one ``bincount``; ``codes_t`` is columns x samples (int64)."""
    m, s = subsets.shape
    N = codes_t.shape[1]
    h = np.empty(m)
    radix = np.ones((m, s), dtype=np.int64)
    for j in range(1, s):
        radix[:, j] = radix[:, j - 1] * sizes[subsets[:, j - 1]]
    cells = radix[:, -1] * sizes[subsets[:, -1]]
    c_log_c = _c_log_c(N) if w is None else None
    start = 0
    while start < m:
        # cache-sized blocks: subsets whose samples and cells are each at most _ROW_BLOCK_ELEMENTS (or one subset)
        stop = min(m, start + max(1, _ROW_BLOCK_ELEMENTS // N))
        stop = start + max(1, int(np.searchsorted(np.cumsum(cells[start:stop]), _ROW_BLOCK_ELEMENTS, side="right")))
        offsets = np.concatenate(([0], np.cumsum(cells[start:stop])))
        key = codes_t[subsets[start:stop, 0]] * radix[start:stop, 0, None]
        for j in range(1, s):
            key += codes_t[subsets[start:stop, j]] * radix[start:stop, j, None]
        key += offsets[:-1, None]
        if w is None:
            counts = np.bincount(key.ravel(), minlength=int(offsets[-1]))
            nats = math.log(N) - np.add.reduceat(c_log_c[counts], offsets[:-1]) / N
            occupied = counts > 0
        else:
            p = np.bincount(key.ravel(), weights=np.tile(w, stop - start), minlength=int(offsets[-1]))
            occupied = p > 0
            nats = -np.add.reduceat(p * np.log(np.where(occupied, p, 1.0)), offsets[:-1])
        if miller_madow:
            nats += (np.add.reduceat(occupied, offsets[:-1]) - 1) / (2.0 * n_eff)
        h[start:stop] = nats / _LN2
        start = stop
    return h


@register
class DiscreteEstimator(PlugInEstimator):
    """Exact plug-in estimates for already-discrete data (labels, integers, bits, token ids).

    Every distinct value is its own cell, whatever it is: int64 and uint64 extremes, whole
    floats beyond 2^63 (1e300) and strings included (dense codes by sorting where a shift by
    the minimum could overflow).

    Parameters
    ----------
    bias : {"none", "miller-madow"}
        Add the Miller-Madow correction (m - 1) / (2N) nats to every entropy, m the number of
        occupied cells. With weights, N counts the samples of positive weight (an approximation).
    device : {None, "cpu", "cuda", "cuda:<index>"} or torch.device
        Run ``leave_one_out`` in torch on this device (a tensor X alone selects its own device);
        None: NumPy. ``entropy`` and ``mutual_information`` always run in NumPy.
    """

    name = "discrete"

    def __init__(self, bias: str = "none", device: Any = None):
        self.bias = one_of(bias, "bias", ("none", "miller-madow"))
        self.device = check_device(device)

    def codes(self, a: Any) -> Any:
        return _column_codes(a)


@register
class BinningEstimator(PlugInEstimator):
    """Histogram estimates: every floating-point column is binned, other columns are taken as
    already discrete (class labels and integer codes pass through unchanged).

    Parameters
    ----------
    n_bins : int, default 30
        Equal-width bins per column over the column's observed range (or over ``range``).
    bin_size : float, optional
        Fixed bin width instead: code = floor(x / bin_size), unbounded (Saxe et al. use 0.07).
        Shifted by each column's lowest bin; a column spanning 2^24 bins or more gets dense
        codes of its occupied bins instead (the same partition). A bin_size so small that
        x / bin_size leaves the float range raises ``ValueError``.
    range : (float, float), optional
        Fixed (lo, hi) for every column's ``n_bins`` bins; values outside fall in the edge bins.
    bias : {"none", "miller-madow"}
        Miller-Madow correction of every entropy (see ``DiscreteEstimator``).
    device : {None, "cpu", "cuda", "cuda:<index>"} or torch.device
        Run ``leave_one_out`` in torch on this device (see ``DiscreteEstimator``).

    Warns with ``SaturationWarning`` when every row of X is unique in a leave-one-out call.
    """

    name = "binning"
    warn_saturation = True

    def __init__(
        self, n_bins: int = 30, bin_size: float | None = None, range: Any = None, bias: str = "none", device: Any = None
    ):
        self.n_bins = positive_int(n_bins, "n_bins")
        self.bin_size = None if bin_size is None else positive_float(bin_size, "bin_size")
        if range is not None:
            try:
                lo, hi = (float(x) for x in range)
            except (TypeError, ValueError):
                raise ValueError(f"`range` must be a pair (lo, hi) of numbers, got {range!r}.") from None
            if not (np.isfinite(lo) and np.isfinite(hi) and hi > lo):
                raise ValueError(f"`range` must satisfy lo < hi with finite ends, got {range!r}.")
            range = (lo, hi)
        if bin_size is not None and range is not None:
            raise ValueError("give either `bin_size` or `range`, not both.")
        self.range = range
        self.bias = one_of(bias, "bias", ("none", "miller-madow"))
        self.device = check_device(device)

    def codes(self, a: Any) -> Any:
        """Bin codes of every column (NumPy array or tensor), in the data's own floating-point
        precision (float16 and bfloat16 are binned in float32).

        Divisions are by arrays, never by Python scalars: CUDA turns division by a scalar into
        multiplication by its reciprocal, which can move a value on a bin edge to the other bin.
        """
        if _xp.kind(a) != "f":
            return _column_codes(a)
        xp = _xp.namespace(a)
        if a.dtype not in (xp.float32, xp.float64):
            a = xp.astype(a, xp.float32)
        n, dev = a.shape[1], _xp.device(a)
        if self.bin_size is not None:
            q = self._size_bins(a)
            lo = xp.min(q, axis=0)
            with np.errstate(over="ignore"):  # a span beyond the float range is inf: not small
                span = _xp.to_numpy(xp.max(q, axis=0) - lo)
            if bool(np.all(span < _SMALL_SPAN)):
                # whole floats below 2^24 apart: the difference is exact (and small), even where
                # the bins themselves are beyond int64 (a constant column of 1e300 / 0.07)
                return xp.astype(q - lo, xp.int64)
            # more bins than a shift by the minimum can keep compact: dense codes of the
            # occupied bins (the floats are exact whole numbers, so sorting them is exact)
            return _dense_columns(q)
        if self.range is not None:
            lo, hi = (xp.full((n,), x, dtype=xp.float64, device=dev) for x in self.range)
        else:
            lo, hi = xp.min(a, axis=0), xp.max(a, axis=0)
        factor, lo, scale = _bin_scale(lo, hi, self.n_bins)
        with np.errstate(over="ignore"):  # far outside a fixed range: +-inf, the edge bin below
            t = (a - lo) * scale if factor is None else (a * factor - lo) * scale
        # clipped before the cast: a value far outside a fixed range has no int64 value
        return xp.astype(xp.clip(xp.floor(t), 0, self.n_bins - 1), xp.int64)

    def compact_row_codes(self, a: np.ndarray, blocks: list[tuple[int, int]] | None = None,
                          dense: bool = True) -> Any:
        """``row_codes(self.compact_codes(a), dense=dense)``, or with ``blocks`` that of every block of columns
        (see ``PlugInEstimator``). Equal-width bins put every code below ``n_bins`` (the codes are
        clipped to the edge bins), which ``row_codes`` takes as the columns' sizes instead of a
        pass for their maxima; and a column's bins depend on that column alone, so the blocks are
        binned in one pass over ``a``. The same codes either way."""
        if not _xp.is_numpy(a) or a.dtype.kind != "f" or self.bin_size is not None or self.n_bins > 256:
            return super().compact_row_codes(a, blocks, dense)
        codes = self.compact_codes(a)
        if blocks is None:
            return row_codes(codes, sizes=np.full(a.shape[1], self.n_bins), dense=dense)
        return [row_codes(codes[:, start:stop], sizes=np.full(stop - start, self.n_bins), dense=dense)
                for start, stop in blocks]

    def _size_bins(self, a: Any) -> Any:
        """floor(a / bin_size) as whole floats; float32 data that overflow are divided in float64,
        and a quotient beyond float64 raises (more bins than int64, or any float, can count)."""
        xp = _xp.namespace(a)
        n, dev = a.shape[1], _xp.device(a)
        # checked below; a bin_size below float32's range is 0 there (x / 0 = inf, 0 / 0 = NaN)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            q = xp.floor(a / xp.full((n,), self.bin_size, dtype=a.dtype, device=dev))
            if a.dtype == xp.float32 and not bool(xp.all(xp.isfinite(q))):
                q = xp.floor(xp.astype(a, xp.float64) / xp.full((n,), self.bin_size, dtype=xp.float64, device=dev))
        if not bool(xp.all(xp.isfinite(q))):
            largest = float(xp.max(xp.abs(a)))
            raise ValueError(
                f"`bin_size` = {self.bin_size!r} is too small for values of magnitude {largest:.3g}: "
                "floor(x / bin_size) is beyond the floating-point range (more bins than int64 can "
                f"hold). Use a larger `bin_size` (at least {largest / 1e300:.3g}), or `n_bins` for "
                "equal-width bins over each column's range."
            )
        return q

    def compact_codes(self, a: np.ndarray) -> np.ndarray:
        """``codes(a)`` in the smallest unsigned integer type that holds them (uint8 for up to 256
        bins): the same codes, without the (N, d) int64 and float temporaries, for wide layers (a
        5000 x 36,864 conv layer is 184 MB of uint8). The float operations of ``codes`` run a few
        rows at a time in a small buffer, and clipping writes straight into the uint8 result."""
        if not _xp.is_numpy(a) or a.dtype.kind != "f" or (self.bin_size is None and self.n_bins > 256):
            return super().compact_codes(a)
        rows = max(1, _ROW_BLOCK_ELEMENTS // max(1, a.shape[1]))
        if self.bin_size is not None:
            # floor and a division by a positive number are monotone: each column's smallest code
            # is the code of its smallest value
            # an overflow (or a bin_size that is 0 in float32) fails the test below
            with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
                lowest = np.floor(a.min(axis=0) / self.bin_size)
                spans = np.floor(a.max(axis=0) / self.bin_size) - lowest
            # compared in float64: _SMALL_SPAN cast to a float16 span's type would overflow
            if not (np.all(np.isfinite(lowest)) and np.all(spans.astype(np.float64) < _SMALL_SPAN)):
                return super().compact_codes(a)  # dense codes, or the error, of ``codes``
            span = int(np.max(spans)) if a.size else 0
            out = np.empty(a.shape, dtype=_compact(np.array([span])).dtype)
            buffer = np.empty((min(rows, len(a)), a.shape[1]), dtype=a.dtype)
            for start in range(0, len(a), rows):
                part = buffer[: len(a[start : start + rows])]
                np.divide(a[start : start + rows], self.bin_size, out=part)
                np.floor(part, out=part)
                np.subtract(part, lowest, out=part)
                out[start : start + rows] = part
            return out
        if self.range is not None:
            lo, hi = (np.full(a.shape[1], x) for x in self.range)
        else:
            lo, hi = a.min(axis=0), a.max(axis=0)
        factor, lo, scale = _bin_scale(lo, hi, self.n_bins)
        # the codes and the buffer in a's memory order: a column-major a (a narrow layer's copy,
        # whose column extremes are fast) is binned without a transposing pass
        order = "F" if a.flags.f_contiguous and not a.flags.c_contiguous else "C"
        out = np.empty(a.shape, dtype=np.uint8, order=order)
        buffer = np.empty((min(rows, len(a)), a.shape[1]), dtype=np.result_type(a, lo, scale), order=order)
        for start in range(0, len(a), rows):
            part = buffer[: len(a[start : start + rows])]
            with np.errstate(over="ignore"):  # far outside a fixed range: clipped to the edge bin
                if factor is None:
                    np.subtract(a[start : start + rows], lo, out=part)
                else:
                    np.multiply(a[start : start + rows], factor, out=part)
                    np.subtract(part, lo, out=part)
                np.multiply(part, scale, out=part)
            # clipped to [0, n_bins - 1], the cast's truncation is the floor of `codes`
            np.clip(part, 0, self.n_bins - 1, out=out[start : start + rows], casting="unsafe")
        return out


def _compact(codes: np.ndarray) -> np.ndarray:
    """Non-negative integer codes in the smallest unsigned type that holds them."""
    largest = int(codes.max()) if codes.size else 0
    small = next(t for t in (np.uint8, np.uint16, np.uint32, np.uint64) if largest <= np.iinfo(t).max)
    return codes.astype(small, copy=False)


# -- subset entropies (the higher-order measures) -----------------------------------------------
def _key_entropies(keys: Any, m: int, N: int, w: Any | None, miller_madow: bool, n_eff: int) -> Any:
    """Plug-in entropies (bits) of m variables given by row keys, ``keys(start, stop)`` giving
    rows start..stop-1 as a (stop - start, N) int64 array: one sort per variable, in blocks of
    ``_BLOCK_ELEMENTS``.

    Keys of two distinct code rows collide with probability at most ``K / 2^64`` per variable
    (the module docstring's bound with b = 0): over m variables and N^2 / 2 pairs of samples,
    ``P(any collision) <= m N^2 K / 2^65``.
    """
    h = None
    block = max(1, _BLOCK_ELEMENTS // N)
    for start in range(0, m, block):
        stop = min(m, start + block)
        part = keys(start, stop)
        if h is None:
            xp = _xp.namespace(part)
            h = xp.empty(m, dtype=xp.float64, device=_xp.device(part))
        if w is None:
            s, ws = _xp.sort(part, axis=1), None
        else:
            s, order = _xp.sort_with_indices(part, axis=1)
            ws = w[order]
        h[start:stop] = _group_entropies(s, ws, miller_madow, n_eff) / _LN2
    return h


def _dense_rows(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense codes 0..K-1 (in sorted order) of every row of ``keys`` (m, N), and each row's K."""
    order = np.argsort(keys, axis=1)
    s = np.take_along_axis(keys, order, axis=1)
    new = np.ones(s.shape, dtype=bool)
    new[:, 1:] = s[:, 1:] != s[:, :-1]
    ranks = np.cumsum(new, axis=1) - 1
    dense = np.empty(keys.shape, dtype=_compact(np.array([keys.shape[1]])).dtype)
    np.put_along_axis(dense, order, ranks, axis=1)
    return dense, ranks[:, -1] + 1


class SubsetCodes:
    """The partitions of a fixed X into distinct rows: of X, of every X_-i and of every X_i.

    A plug-in estimate depends only on those partitions (SPEC 3), so for a fixed X (the probe
    set's GIB features) they are computed once, and each ``leave_one_out(v, weights)`` combines
    them with the codes of a new V: one ``bincount`` per block of subsets, no sort and no row
    comparison. Row keys are exact mixed-radix numbers when the codes fit 62 bits, else the
    64-bit hashes of the leave-one-out path (module docstring: the same keys, the same collision
    bound); X_-i's key is X's minus column i's term. Subsets whose N rows are all distinct are
    kept as a flag only: there I(X_S;V) = H(V).

    Parameters
    ----------
    codes : array (N, n) of non-negative integers
        The estimator's codes of X (``estimator.codes(X)``), NumPy.
    """

    def __init__(self, codes: np.ndarray):
        codes = np.asarray(codes)
        if codes.ndim != 2 or codes.shape[1] < 2 or codes.dtype.kind not in "biu":
            raise ValueError(f"`codes` must be (N, n >= 2) non-negative integer codes, got {codes.dtype} "
                             f"{codes.shape}.")
        N, n = codes.shape
        self.n_samples, self.n_features = N, n
        #: X_i: each column's codes as they are, and how many values each can take
        self.single = np.ascontiguousarray(_compact(codes).T)
        self.single_sizes = self.single.max(axis=1).astype(np.int64) + 1
        k = self.single_sizes.astype(np.float64)
        if np.sum(np.log2(k)) < 62:  # exact: a mixed-radix number per row
            r = np.cumprod(np.concatenate(([1], self.single_sizes[:-1])))
        else:
            r = _multipliers(n)
        full = np.zeros(N, dtype=np.int64)
        for i in range(n):  # wraps modulo 2^64 for the hash, as the leave-one-out keys do
            full += self.single[i].astype(np.int64) * r[i]
        # subset 0 is X, subset i >= 1 is X_-(i-1)
        distinct = np.zeros(n + 1, dtype=bool)
        kept, kept_codes, kept_sizes = [], [], []
        block = max(1, _BLOCK_ELEMENTS // (4 * N))
        for start in range(0, n + 1, block):
            stop = min(n + 1, start + block)
            keys = np.empty((stop - start, N), dtype=np.int64)
            for row, subset in enumerate(range(start, stop)):
                keys[row] = full if subset == 0 else full - self.single[subset - 1].astype(np.int64) * r[subset - 1]
            dense, sizes = _dense_rows(keys)
            distinct[start:stop] = sizes == N
            for row in np.flatnonzero(sizes < N):
                kept.append(start + row)
                kept_codes.append(dense[row])
                kept_sizes.append(sizes[row])
        self.distinct = distinct  #: subsets (X, then every X_-i) whose rows are all distinct
        self.kept = np.array(kept, dtype=np.int64)  #: the other subsets
        self.codes = np.array(kept_codes).reshape(len(kept), N)  #: their dense codes, (len(kept), N)
        self.sizes = np.array(kept_sizes, dtype=np.int64)  #: their numbers of distinct rows
        self._rows: dict[tuple[str, int, int], np.ndarray] = {}  #: ``_cell_rows`` of each block

    def leave_one_out(self, v: np.ndarray, weights: np.ndarray | None = None,
                      miller_madow: bool = False) -> LeaveOneOut:
        """I(X;V), every I(X_i;V) and every I(X_-i;V) in bits: the plug-in estimator's
        ``leave_one_out(X, v, weights)`` for the X these codes came from.

        Parameters
        ----------
        v : array (N,)
            Dense codes 0..K-1 of V (:func:`row_codes`).
        weights : array (N,), optional
            Sample weights summing to 1 (``check_weights``); None: uniform.
        miller_madow : bool
            The Miller-Madow correction of every entropy.
        """
        v = np.asarray(v, dtype=np.int64)
        N, n = self.n_samples, self.n_features
        if v.shape != (N,):
            raise ValueError(f"`v` has shape {v.shape}; pass one code per sample, shape ({N},).")
        n_eff = N if weights is None else int(np.count_nonzero(weights))
        w = np.full(N, 1.0 / N) if weights is None else np.asarray(weights, dtype=np.float64)
        k_v = int(v.max()) + 1
        h_v = _entropy_bits(_probabilities(v, weights), n_eff, miller_madow)
        # weights that are a function of V (uniform ones, the PMI weights of Z = (Yhat, Y)):
        # a cell's probability is its count times its V's weight, and tables are counted unweighted
        w_of_v = np.zeros(k_v)
        w_of_v[v] = w
        if not np.array_equal(w_of_v[v], w):
            w_of_v = None
        # subsets of distinct rows: H(X_S) = H(X_S, V), so I(X_S;V) = H(V)
        mi = np.full(n + 1, h_v)
        constant = None
        if w_of_v is not None:  # sum_v n_v w_v log w_v, a term of every H(X_S, V) (_table_entropies)
            n_v = np.bincount(v, minlength=k_v)
            positive = w_of_v > 0
            constant = float(np.sum(n_v[positive] * w_of_v[positive] * np.log(w_of_v[positive])))
        if len(self.kept):
            hx, hxv = self._table_entropies("kept", v, k_v, w, w_of_v, constant, n_eff, miller_madow)
            mi[self.kept] = hx + h_v - hxv
        hx, hxv = self._table_entropies("single", v, k_v, w, w_of_v, constant, n_eff, miller_madow)
        return LeaveOneOut(float(mi[0]), hx + h_v - hxv, mi[1:])

    def _table_entropies(self, which, v, k_v, w, w_of_v, constant, n_eff, miller_madow):
        """(H(X_S), H(X_S, V)) in bits of each row S of the ``"kept"`` subsets' codes or of the
        ``"single"`` columns (values below their sizes), from one contingency table per block of
        rows (rows side by side at offsets): weighted, or counted when the weights are a function
        ``w_of_v`` of V (``constant``: sum_v n_v w_v log w_v)."""
        codes, sizes = (self.codes, self.sizes) if which == "kept" else (self.single, self.single_sizes)
        m, N = codes.shape
        hx, hxv = np.empty(m), np.empty(m)
        cells = sizes * k_v
        start = 0
        while start < m:
            # rows whose tables together hold at most ~2^22 cells (or one row), and their samples
            stop = start + 1
            total = cells[start]
            while stop < m and total + cells[stop] <= (1 << 22) and (stop - start + 1) * N <= _BLOCK_ELEMENTS // 8:
                total += cells[stop]
                stop += 1
            offsets = np.concatenate(([0], np.cumsum(cells[start:stop])))
            cell = codes[start:stop].astype(np.int64)
            cell *= k_v
            cell += v
            cell += offsets[:-1, None]
            if w_of_v is not None:
                counts = np.bincount(cell.ravel(), minlength=int(offsets[-1])).reshape(-1, k_v)
                # sum p log p over the cells (x, v) of p = c w_v: sum w_v c log c + sum_v n_v w_v log w_v,
                # with c log c looked up (0 for the empty and the single-sample cells)
                c_log_c = _c_log_c(N)
                rows = offsets[:-1] // k_v
                h = -(np.add.reduceat(c_log_c[counts] @ w_of_v, rows) + constant)
                if miller_madow:
                    occupied = (counts > 0) & (w_of_v > 0)
                    h += (np.add.reduceat(occupied.sum(axis=1), rows) - 1) / (2.0 * n_eff)
                hxv[start:stop] = h / _LN2
                tables = ((hx, counts @ w_of_v, None),)
            else:
                table = np.bincount(cell.ravel(), weights=np.tile(w, stop - start), minlength=int(offsets[-1]))
                tables = ((hxv, table, offsets), (hx, table.reshape(-1, k_v).sum(axis=1), None))
            for out, p, bounds in tables:
                occupied = np.flatnonzero(p)  # logs of the occupied cells only: the tables are sparse
                if bounds is None:  # X_S's cells: each cell's row, kept for the block (no search)
                    row = self._cell_rows(which, start, stop)[occupied]
                else:
                    row = np.searchsorted(bounds, occupied, side="right") - 1
                q = p[occupied]
                h = -np.bincount(row, weights=q * np.log(q), minlength=stop - start)
                if miller_madow:
                    h += (np.bincount(row, minlength=stop - start) - 1) / (2.0 * n_eff)
                out[start:stop] = h / _LN2
            start = stop
        return hx, hxv

    def _cell_rows(self, which: str, start: int, stop: int) -> np.ndarray:
        """The row (start..stop-1, from 0) of every cell of the X_S tables of rows start..stop-1
        side by side: row r holds ``sizes[r]`` cells. Kept per block of rows."""
        key = (which, start, stop)
        if key not in self._rows:
            sizes = (self.sizes if which == "kept" else self.single_sizes)[start:stop]
            self._rows[key] = np.repeat(np.arange(stop - start, dtype=_compact(np.array([stop - start])).dtype), sizes)
        return self._rows[key]


@functools.lru_cache(maxsize=8)
def _c_log_c(N: int) -> np.ndarray:
    """c log c (nats) for the counts c = 0..N (0 at c = 0 and c = 1), read-only: the same table
    for every leave-one-out on N samples."""
    table = np.arange(N + 1.0)
    table[1:] *= np.log(table[1:])
    table.flags.writeable = False
    return table


def code_entropy(codes: np.ndarray, miller_madow: bool = False) -> float:
    """The plug-in H(A) in bits of a variable given as dense codes 0..K-1 (:func:`row_codes`),
    unweighted; with ``miller_madow`` the Miller-Madow correction.

    Codes of a wide range (the row keys of ``row_codes(..., dense=False)``) are counted by
    sorting: the counts come in the order of the values, as a table of the dense codes has them,
    so the number is the same."""
    codes = np.asarray(codes)
    if len(codes) and int(codes.max()) >= _TABLE_FACTOR * len(codes) + _TABLE_SLACK:
        p = np.unique(codes, return_counts=True)[1].astype(np.float64)
        return _entropy_bits(p / p.sum(), len(codes), miller_madow)
    return _entropy_bits(_probabilities(codes, None), len(codes), miller_madow)


class FixedInputEstimator(PlugInEstimator):
    """A plug-in estimator bound to one fixed X (a probe set's features), whose
    ``leave_one_out(X, v, weights)`` on that X combines V with X's partitions computed once
    (:class:`SubsetCodes`) instead of coding and sorting X again; on any other X, and for
    ``entropy`` and ``mutual_information``, it is the estimator it wraps. Same numbers either way.

    Parameters
    ----------
    estimator : PlugInEstimator
        ``binning`` or ``discrete`` with its options (a ``device`` is not used on the fixed X:
        there a leave-one-out is a few bincounts on the host).
    X : array (N, n >= 2)
        The fixed X, as the measures will pass it (2-D, checked).
    """

    def __init__(self, estimator: PlugInEstimator, X: Any):
        if not isinstance(estimator, PlugInEstimator):
            raise TypeError(f"`estimator` must be a plug-in estimator (binning, discrete), got "
                            f"{type(estimator).__name__}.")
        self.estimator, self.name, self.bias = estimator, estimator.name, estimator.bias
        self.warn_saturation = estimator.warn_saturation
        self.X = as_samples(X, "X")
        self.subsets = SubsetCodes(estimator.codes(self.X))

    def codes(self, a: Any) -> Any:
        return self.estimator.codes(a)

    def compact_codes(self, a: Any) -> Any:
        return self.estimator.compact_codes(a)

    def _entropy(self, a, w):
        return self.estimator._entropy(a, w)

    def _mutual_information(self, a, b, w):
        return self.estimator._mutual_information(a, b, w)

    def _leave_one_out(self, X, v, w):
        if not (X is self.X or (X.shape == self.X.shape and np.array_equal(X, self.X))):
            return self.estimator.leave_one_out(X, v, w)
        if self.warn_saturation and self.subsets.distinct[0]:
            self._warn_saturated(len(X))
        return self.subsets.leave_one_out(row_codes(self.codes(v)), w, self._miller_madow)

    def __repr__(self) -> str:
        return f"FixedInputEstimator({self.estimator!r}, X of shape {self.X.shape})"


def code_informations(a: np.ndarray, others: list[np.ndarray], miller_madow: bool = False,
                      counts: list[np.ndarray] | None = None) -> list[float]:
    """The plug-in I(A;B) in bits for each B of ``others``, all given as dense codes 0..K-1
    (:func:`row_codes`), unweighted: :func:`code_information` with H(A) computed once, and no
    joint table for a B whose N codes are all distinct (then H(A,B) = H(B), so I(A;B) = H(A)).

    ``counts``, optional: ``np.bincount(B)`` of each B, when the Bs are fixed and their counts
    kept (the IB plane's X and Y); the same numbers. A may also be given by the row keys of
    ``row_codes(..., dense=False)`` (ordered as its rows; tables of a wide range are counted by
    sorting, in the same order): the same numbers as its dense codes, without ranking the keys."""
    n = len(a)
    h_a = code_entropy(a, miller_madow)
    ka = int(a.max()) + 1
    out = []
    for b, b_counts in zip(others, [None] * len(others) if counts is None else counts):
        b_counts = np.bincount(b) if b_counts is None else b_counts
        if len(b_counts) == n and b_counts.max() == 1:  # B tells every sample apart
            out.append(h_a)
            continue
        if len(b_counts) * ka >= 1 << 62:  # keys too wide for the joint key: A's dense codes, in the same order
            a = np.unique(a, return_inverse=True)[1].ravel()
            ka = int(a.max()) + 1
        joint = b.astype(np.int64) * ka + a
        cells = np.bincount(joint) if len(b_counts) * ka <= 8 * n else np.unique(joint, return_counts=True)[1]
        h_b = _entropy_bits(b_counts[b_counts > 0] / n, n, miller_madow)
        out.append(h_a + h_b - _entropy_bits(cells[cells > 0] / n, n, miller_madow))
    return out
