"""Matrix-based Renyi alpha-entropy, ``renyi`` (SPEC 3; Giraldo, Rao & Principe 2015; Yu et al.).

Giraldo, Rao & Principe, "Measures of entropy from data using infinitely divisible kernels",
IEEE Trans. Inf. Theory 61 (2015) 535-548; Yu, Giraldo, Jenssen & Principe, "Multivariate
extension of matrix-based Renyi's alpha-order entropy functional", IEEE TPAMI 42 (2020)
2960-2966. For a Gram matrix K of the samples (K_aa = 1) and its trace-normalised form
A = K / N, ``S_alpha(A) = log2(sum_k lambda_k(A)^alpha) / (1 - alpha)``: the Renyi entropy of
A's eigenvalues, between 0 and log2 N. Joint entropies use the normalised Hadamard product,
``S(A_1, ..., A_m) = S(A_1 o ... o A_m / tr(A_1 o ... o A_m))``, and
``I(A;B) = S(A) + S(B) - S(A,B)``.

Kernels (the width rule): every continuous column is its own variable, standardised to zero
mean and unit (weighted) standard deviation and given the Gaussian kernel
``exp(-(z_a - z_b)^2 / (2 sigma^2))`` with Silverman's rule of thumb for unit-variance data,
``sigma = bandwidth_scale * 1.06 * N^(-1/5)`` (N: Kish's effective size with weights). The
Gram matrix of several columns is the Hadamard product of theirs, i.e. a Gaussian kernel of
that width in every direction. (Yu et al. 2019 scale one width with the layer's dimension,
``gamma N^(-1/(4+d))``; one fixed width per column is what makes every subset's Gram matrix a
sub-product of the same factors, which the fast path needs.) Class labels (integer, bool or
string data) get the delta kernel K_ab = [y_a = y_b] (each distinct row a class), whose
entropy is the Renyi entropy of the class frequencies. A constant column has K = 1 and adds
nothing, exactly.

Sample weights enter exactly as a weighted empirical distribution: A = W^(1/2) K W^(1/2) with W
the diagonal of the normalised weights (the RKHS covariance operator of the weighted samples;
uniform weights give K / N).

The fast leave-one-out path (SPEC 3, last bullet)
-------------------------------------------------
The Gaussian Gram matrix of a set of columns is ``exp(-sum_d E_d)`` with E_d the scaled squared
gaps of column d, so the complement's Hadamard product is the full product divided by feature
i's Gram matrix: ``K(X_-i) = K(X) / K(X_i) = exp(-(E - E_i))``. The division is done on the
exponents, where it is one subtraction: no entry of K(X_i) is ever formed, so none can
underflow to 0 and be divided by (which is where dividing the Gram matrices themselves fails:
entries below 1e-308, pairs farther apart than ~38 sigma, would give 0/0), and no complement
needs recomputing. One pass over the columns builds E; each subset then costs one exponential
of N^2 entries and its eigenvalues. With class labels V, the Gram matrix of (X_S, V) is block
diagonal (the delta kernel zeroes the pairs of different classes), so its eigenvalues are the
classes' blocks' eigenvalues: sum_y N_y^3 instead of N^3.

Cost: the eigenvalues dominate, O(N^3) per entropy: 4n + 3 symmetric eigenvalue problems for
``leave_one_out`` against 3 (2n + 1) for the per-subset loop. For ``alpha = 2`` no eigenvalues
are needed: ``sum_k lambda_k^2 = ||A||_F^2`` (exact), O(N^2) per entropy.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from .. import _xp
from .._validation import positive_float
from .base import Entropies, Estimator, LeaveOneOut, check_device, is_discrete, register

_SILVERMAN = 1.06  # Silverman's rule-of-thumb factor for a Gaussian kernel (1986, eq. 3.28)
# Up to this many samples the eigenvalue problems run on one BLAS thread (``_xp.one_blas_thread``):
# N = 200: 3 ms of CPU on one thread, 40 ms on two shared cores.
SMALL_GRAM = 1024
# The usable orders (ours): from MIN_ALPHA to any finite order (``_spectrum_entropy`` keeps every
# digit for large orders); below it the rounding eigenvalues swamp the sum of powers.
MIN_ALPHA = 0.5
# The valid ``bandwidth_scale`` (ours), as for ``kde``: beyond it the Gram matrix is the identity
# (every entropy log2 N) or all ones (every entropy 0) for any data, and far beyond it the squared
# gaps over the width overflow (1e-300) or the kernel is 1 to rounding (1e300).
BANDWIDTH_SCALE_RANGE = (1e-4, 1e4)


def _spectrum_entropy(lam: Any, alpha: float) -> float:
    """Renyi alpha-entropy (bits) of eigenvalues summing to 1 (rounding negatives clipped to 0);
    alpha = 1 is the von Neumann (Shannon) limit.

    ``log2(sum lam^alpha) / (1 - alpha)`` is computed in one of two forms that keep every digit
    (eigenvalues renormalised to sum 1 first; zeros add nothing to either sum):

    - near 1 (|alpha - 1| <= 1/2): ``sum lam^alpha - 1 = sum lam (lam^(alpha-1) - 1)``, summed
      with ``expm1`` and taken through ``log1p``, so the division by 1 - alpha does not magnify
      rounding (the plain form loses ~1e-16 / |1 - alpha| bits);
    - elsewhere: ``lam^alpha = lam_max^alpha (lam / lam_max)^alpha`` on the logarithm, so that
      no power underflows (at alpha = 500 every lam^alpha is below 1e-308, the plain form's sum
      is 0 and its entropy inf) and large orders tend to the min-entropy -log2(lam_max).
    """
    xp = _xp.namespace(lam)
    positive = lam[lam > 0]
    positive = positive / xp.sum(positive)
    if alpha == 1.0:
        return float(-xp.sum(positive * xp.log2(positive)))
    if abs(alpha - 1.0) <= 0.5:
        excess = xp.sum(positive * xp.expm1((alpha - 1.0) * xp.log(positive)))
        return float(xp.log1p(excess)) / math.log(2.0) / (1.0 - alpha)
    top = xp.max(positive)
    rest = float(xp.log2(xp.sum((positive / top) ** alpha)))
    return alpha / (1.0 - alpha) * float(xp.log2(top)) + rest / (1.0 - alpha)


def _unit_columns(a: Any) -> Any:
    """``a`` with each column divided by the power of two that brings its largest magnitude into
    [0.5, 1) (zero columns kept): exact, and the standardised columns are unchanged, but their
    centring and squares can neither overflow (+-1.7e308, or 1e160 squared) nor underflow (1e-200
    squared is 0, which would make a varying column look constant)."""
    big = _xp.to_numpy(_xp.namespace(a).max(_xp.namespace(a).abs(a), axis=0))
    _, exponent = np.frexp(np.where(big > 0, big, 1.0))
    # 2^-e in two factors: a single one would overflow for subnormal columns (e down to -1073)
    half = -exponent // 2
    first, second = np.ldexp(1.0, half), np.ldexp(1.0, -exponent - half)
    return a * _xp.asarray(first, a) * _xp.asarray(second, a)


def _gram_entropy(expo: Any, root_w: Any, blocks: list[Any] | None, alpha: float) -> float:
    """S_alpha of A = W^(1/2) exp(-expo) W^(1/2), or, with class ``blocks`` (device indices),
    of its block-diagonal part (the Hadamard product with the labels' delta kernel)."""
    xp = _xp.namespace(expo)
    if blocks is None:
        parts = [(-expo, root_w)]
    else:
        parts = [(-xp.take(xp.take(expo, idx, axis=0), idx, axis=1), xp.take(root_w, idx)) for idx in blocks]
    grams = []
    for neg, rw in parts:  # ``neg`` is a fresh array: exp in place
        a = _xp.exp_(neg)
        _xp.multiply(a, rw[:, None], out=a)
        _xp.multiply(a, rw[None, :], out=a)
        grams.append(a)
    if alpha == 2.0:  # sum lambda^2 = ||A||_F^2: no eigenvalues needed
        return -math.log2(sum(float(xp.sum(a * a)) for a in grams))
    with _xp.one_blas_thread(_xp.is_numpy(expo) and expo.shape[0] <= SMALL_GRAM):
        lam = [xp.linalg.eigvalsh(a) for a in grams]
    return _spectrum_entropy(xp.concat(lam), alpha)


def _class_entropy(masses: np.ndarray, alpha: float) -> float:
    """S_alpha of the delta kernel alone: its eigenvalues are the class masses."""
    return _spectrum_entropy(masses, alpha)


def _codes(b: np.ndarray) -> np.ndarray:
    return np.unique(b, axis=0, return_inverse=True)[1].ravel()


def _squared_gaps(zt: Any, d: int) -> Any:
    return _xp.square_(zt[d, :, None] - zt[d, None, :])


def _exponent(zt: Any) -> Any:
    """sum_d E_d over the columns of ``zt`` (columns x N, already scaled by the kernel width)."""
    expo = _squared_gaps(zt, 0)
    for d in range(1, zt.shape[0]):
        expo += _squared_gaps(zt, d)
    return expo


@register
class RenyiEstimator(Estimator):
    """Matrix-based Renyi alpha-entropies (SPEC 3; module docstring), in bits.

    ``entropy(a)``: ``S_alpha`` of the normalised Hadamard product of a's columns' Gram matrices
    (the delta kernel for labels), between 0 and log2 N. ``mutual_information(a, b)`` =
    ``S(A) + S(B) - S(A,B)``; labels (integer, bool or string dtype) on either side get the
    delta kernel, floating-point columns the Gaussian kernel.

    Parameters
    ----------
    alpha : float >= 0.5, default 1.01
        The order; usable from 0.5 to any finite value (smaller orders are refused). Near 1 it
        approaches the von Neumann entropy (alpha = 1 computes that limit); alpha = 2 needs no
        eigenvalues (module docstring); large orders tend to the min-entropy -log2(lambda_max).
        Below 1 the eigenvalues that are 0 up to rounding (~1e-17) count as 1e-17^alpha each,
        so values carry more rounding noise (~1e-9 bits at alpha = 0.5, N = 120); below 0.5
        that noise would swamp the entropy.
    bandwidth_scale : float in [1e-4, 1e4], default 1.0
        Multiplies Silverman's width ``1.06 N^(-1/5)`` of every standardised column.
    device : {None, "cpu", "cuda", "cuda:<index>"} or torch.device
        Run ``leave_one_out`` in torch on this device (a tensor X alone selects its own device);
        None: NumPy. ``entropy`` and ``mutual_information`` always run in NumPy.

    Notes
    -----
    - Not a differential entropy: it is bounded by log2 N (all samples kernel-separated), so
      like binning it saturates, at log2 N, when the kernel width is small against the gaps
      (many columns: the product kernel's width does not grow with the dimension).
    - Joint entropies are at least the largest marginal's (Giraldo et al.), so adding columns
      never lowers an entropy; ``I(A;B) >= 0`` is not guaranteed in general (subadditivity of
      the Hadamard construction is not a theorem), though it holds in the tests' examples.
    - Biased by the kernel width: a wide kernel lowers every entropy, a narrow one raises it
      toward log2 N; values from different N or widths are not comparable.
    - Weights are exact for the weighted empirical distribution (module docstring).
    - Invariant to the scale of each continuous column, at any magnitude: columns are brought
      to unit size by a power of two before they are standardised (``x * 1e160`` and
      ``x * 1e-200`` give the entropy of ``x``).
    """

    name = "renyi"
    array_api = True

    def __init__(self, alpha: float = 1.01, bandwidth_scale: float = 1.0, device: Any = None):
        self.alpha = positive_float(alpha, "alpha")
        if self.alpha < MIN_ALPHA:
            raise ValueError(
                f"`alpha` must be at least {MIN_ALPHA:g} (any finite order above), got {alpha!r}: "
                "below it the N eigenvalues that are 0 up to rounding (~1e-17) each add "
                "1e-17^alpha to the sum of powers and swamp the entropy."
            )
        self.bandwidth_scale = positive_float(bandwidth_scale, "bandwidth_scale")
        low, high = BANDWIDTH_SCALE_RANGE
        if not low <= self.bandwidth_scale <= high:
            raise ValueError(
                f"`bandwidth_scale` must be in [{low:g}, {high:g}] (a factor on Silverman's width of "
                f"the standardised columns), got {bandwidth_scale!r}: below, every sample is its own "
                "cluster and every entropy log2 N; above, the kernel is flat and every entropy 0."
            )
        self.device = check_device(device)

    # -- pieces -------------------------------------------------------------------------------
    def _scaled(self, a: Any, w: np.ndarray) -> Any:
        """Columns (x N) standardised with weights ``w`` and divided by sqrt(2) * sigma, so that
        a column's Gaussian kernel is exp(-squared gap); constant columns become 0."""
        if _xp.kind(a) in "US":
            raise TypeError(
                f"`X` holds strings (dtype {a.dtype}); leave_one_out needs numbers in X. Labels "
                "belong in `v` (or encode them as integers)."
            )
        xp = _xp.namespace(a)
        a = _unit_columns(xp.astype(a, xp.float64, copy=False))
        wt = _xp.asarray(w, a)
        n_eff = float(len(w)) if np.all(w == w[0]) else 1.0 / float(w @ w)
        width = self.bandwidth_scale * _SILVERMAN * n_eff ** (-0.2)
        centred = a - wt @ a
        sigma = xp.sqrt(wt @ (centred * centred))
        scale = xp.where(sigma > 0, 1.0 / (math.sqrt(2.0) * width * xp.where(sigma > 0, sigma, 1.0)), 0.0)
        return _xp.contiguous((centred * scale).T)

    def _entropy_parts(self, cont: list[Any], labels: list[np.ndarray], w: np.ndarray) -> float:
        """S_alpha of the Hadamard product of continuous variables (NumPy) and label sets."""
        blocks = None
        if labels:
            codes = _codes(np.column_stack(labels))
            if not cont:
                return _class_entropy(np.bincount(codes, weights=w), self.alpha)
            blocks = [np.flatnonzero(codes == c) for c in range(codes.max() + 1)]
        if not cont:
            return 0.0
        zt = self._scaled(np.hstack(cont), w)
        return _gram_entropy(_exponent(zt), np.sqrt(w), blocks, self.alpha)

    @staticmethod
    def _split(a: np.ndarray) -> tuple[list, list]:
        return ([], [a]) if is_discrete(a) else ([a], [])

    # -- the Estimator interface ---------------------------------------------------------------
    def _entropy(self, a, w):
        w = np.full(len(a), 1.0 / len(a)) if w is None else w
        return self._entropy_parts(*self._split(a), w)

    def _mutual_information(self, a, b, w):
        w = np.full(len(a), 1.0 / len(a)) if w is None else w
        (ca, la), (cb, lb) = self._split(a), self._split(b)
        h_a = self._entropy_parts(ca, la, w)
        h_b = self._entropy_parts(cb, lb, w)
        return h_a + h_b - self._entropy_parts(ca + cb, la + lb, w)

    def _leave_one_out(self, X, v, w):
        """All subset entropies from one exponent matrix (module docstring)."""
        if _xp.kind(X) in "biu":  # integer codes: ``_entropy``'s delta kernel of the rows, subset by subset
            return self.leave_one_out_direct(_xp.to_numpy(X), v, w)
        w = np.full(X.shape[0], 1.0 / X.shape[0]) if w is None else w
        xp = _xp.namespace(X)
        zt = self._scaled(X, w)
        root_w = _xp.asarray(np.sqrt(w), zt)
        n = zt.shape[0]
        ent = lambda expo, blocks: _gram_entropy(expo, root_w, blocks, self.alpha)  # noqa: E731
        expo_x = _exponent(zt)
        if is_discrete(v):
            codes = _codes(v)
            h_v = _class_entropy(np.bincount(codes, weights=w), self.alpha)
            blocks = [_xp.asarray(np.flatnonzero(codes == c), zt) for c in range(codes.max() + 1)]
            with_v = lambda expo: ent(expo, blocks)  # noqa: E731
        else:
            expo_v = _exponent(self._scaled(_xp.asarray(v.astype(np.float64), zt), w))  # on X's device
            h_v = ent(expo_v, None)
            with_v = lambda expo: ent(expo + expo_v, None)  # noqa: E731
        h_x, h_xv = ent(expo_x, None), with_v(expo_x)
        single, complement = np.empty(n), np.empty(n)
        for i in range(n):
            expo_i = _squared_gaps(zt, i)
            # K(X_-i) = K(X) / K(X_i), divided on the exponents (module docstring)
            expo_minus = _xp.clamp_min_(expo_x - expo_i, 0.0)
            single[i] = h_v + ent(expo_i, None) - with_v(expo_i)
            complement[i] = h_v + ent(expo_minus, None) - with_v(expo_minus)
        return LeaveOneOut(float(h_x + h_v - h_xv), single, complement)

    # -- subset entropies (the higher-order measures; SPEC 3) ------------------------------------
    def _entropies(self, X, w):
        """H(X), H(X_i), H(X_-i) from one exponent matrix, as in ``_leave_one_out``: a column's
        standardisation does not depend on the others, so every subset's exponent is a sum of
        the same E_d and X_-i's is the full one minus E_i (module docstring)."""
        if _xp.kind(X) in "biuUS":  # labels: ``_entropy``'s delta kernel of the rows, subset by subset
            return super()._entropies(X, w)
        zt, ent = self._subset_entropy(X, w)
        expo_x = _exponent(zt)
        single = np.array([ent(_squared_gaps(zt, i)) for i in range(zt.shape[0])])
        complement = np.array([ent(_xp.clamp_min_(expo_x - _squared_gaps(zt, i), 0.0)) for i in range(zt.shape[0])])
        return Entropies(ent(expo_x), single, complement)

    def _pair_complement_entropies(self, X, w):
        """Every H(X_-{i,j}): the full exponent minus E_i and E_j (module docstring); one
        eigenvalue problem per pair, no exponent recomputed."""
        if _xp.kind(X) in "biuUS":
            return super()._pair_complement_entropies(X, w)
        zt, ent = self._subset_entropy(X, w)
        n = zt.shape[0]
        expo_x = _exponent(zt)
        h = np.zeros((n, n))
        for i in range(n):
            minus_i = _xp.clamp_min_(expo_x - _squared_gaps(zt, i), 0.0)
            h[i, i] = ent(minus_i)
            for j in range(i + 1, n) if n > 2 else ():  # with 2 features X_-{0,1} is empty
                h[i, j] = h[j, i] = ent(_xp.clamp_min_(minus_i - _squared_gaps(zt, j), 0.0))
        return h

    def _subset_entropy(self, X: Any, w: np.ndarray | None) -> tuple[Any, Callable[[Any], float]]:
        """(X's scaled columns, the entropy of the Gram matrix exp(-expo) of a subset)."""
        w = np.full(X.shape[0], 1.0 / X.shape[0]) if w is None else w
        zt = self._scaled(X, w)
        root_w = _xp.asarray(np.sqrt(w), zt)
        return zt, lambda expo: _gram_entropy(expo, root_w, None, self.alpha)
