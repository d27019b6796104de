"""Gaussian-copula mutual information, ``gcmi`` (SPEC 3; paper App. F.2; Ince et al. 2017).

Every continuous column is replaced by standard normal scores of its ranks (the copula
normalisation), and entropies are those of a Gaussian fitted to the normalised data, from the
covariance's log-determinant, with Ince's analytic bias correction. Ince, Giordano, Kayser,
Rousselet, Gross & Schyns, "A statistical framework for neuroimaging data analysis based on
mutual information estimated via a gaussian copula", Human Brain Mapping 38 (2017) 1541-1573.

The fast leave-one-out path (SPEC 3, last bullet)
-------------------------------------------------
Deleting row and column i of a positive-definite C changes its log-determinant by the log of
the i-th diagonal entry of the inverse: ``logdet(C_-i,-i) = logdet(C) + log((C^-1)_ii)`` (the
Schur complement of C_-i,-i in C is 1 / (C^-1)_ii). One Cholesky factor and one triangular
inverse of C_X give every H(X_-i); the same on the joint covariance of (X, V) gives every
H(X_-i, V); for a discrete V, the same on each class's covariance gives every H(X_-i | V=v).
The singles need only variances (and, for a continuous V, the Schur complements
``c_ii - c_iV C_V^-1 c_Vi``). Tests compare the fast path with the plain per-subset computation.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import linalg, special, stats

from .base import Estimator, LeaveOneOut, _is_tensor, check_device, register

_LN2 = math.log(2.0)
# Entropy of one standard normal dimension, in nats: (ln(2 pi) + 1) / 2.
_HALF_LOG_2PIE = 0.5 * (math.log(2.0 * math.pi) + 1.0)


def _is_discrete(b: np.ndarray) -> bool:
    """SPEC 3: a target of integer, bool or string dtype is a class label."""
    return b.dtype.kind in "biuUS"


def _check_numeric(a: np.ndarray, name: str) -> np.ndarray:
    if a.dtype.kind in "US":
        raise TypeError(
            f"`{name}` holds strings, but gcmi treats `{name}` as continuous data to rank. "
            "Pass class labels as the second argument (`b` or `v`) instead, or encode them as "
            "numbers."
        )
    return a.astype(np.uint8) if a.dtype.kind == "b" else a


def _copula(a: np.ndarray, w: np.ndarray | None, name: str) -> np.ndarray:
    """Copula-normalise every column: standard normal scores of the (weighted) mid-ranks.

    Unweighted: ``ndtri(rank / (N + 1))`` with tied values sharing their mean rank. Weighted:
    with ``F`` the weighted empirical CDF at the middle of a value's tie group and ``M`` the
    number of samples of positive weight, ``u = (M * F + 1/2) / (M + 1)``; with uniform
    weights ``M * F + 1/2`` is the mid-rank, so this reduces to rank / (N + 1), and 0/1
    weights reproduce the unweighted result on the selected samples.
    """
    a = _check_numeric(a, name)
    n_samples = len(a)
    positive = None if w is None else w > 0
    ref = a if positive is None else a[positive]
    constant = np.flatnonzero(np.all(ref == ref[:1], axis=0))
    if constant.size:
        where = "" if w is None else " among the samples of positive weight"
        raise ValueError(
            f"`{name}` has constant column(s) {constant.tolist()}{where}: their copula ranks are "
            f"arbitrary and their covariance singular. Drop them first, e.g. "
            f"`{name}[:, {name}.std(axis=0) > 0]`."
        )
    if w is None:
        u = stats.rankdata(a, method="average", axis=0) / (n_samples + 1.0)
        return special.ndtri(u)
    m = float(np.count_nonzero(positive))
    order = np.argsort(a, axis=0, kind="stable")
    s = np.take_along_axis(a, order, axis=0)
    ws = w[order]
    cum = np.cumsum(ws, axis=0)
    # First and last sorted position of each sample's tie group.
    idx = np.arange(n_samples)[:, None]
    starts = np.ones(s.shape, dtype=bool)
    starts[1:] = s[1:] != s[:-1]
    ends = np.ones(s.shape, dtype=bool)
    ends[:-1] = starts[1:]
    first = np.maximum.accumulate(np.where(starts, idx, 0), axis=0)
    last = np.minimum.accumulate(np.where(ends, idx, n_samples - 1)[::-1], axis=0)[::-1]
    cols = np.arange(a.shape[1])[None, :]
    below = cum[first, cols] - ws[first, cols]
    mid = 0.5 * (below + cum[last, cols])
    u = np.empty_like(mid)
    np.put_along_axis(u, order, (m * mid + 0.5) / (m + 1.0), axis=0)
    return special.ndtri(u)


def _covariance(z: np.ndarray, w: np.ndarray | None) -> tuple[np.ndarray, float]:
    """Covariance (unbiased: /(N - 1)) and effective sample size.

    Weights (normalised here) give the reliability-weighted covariance
    ``sum_k w_k (z_k - m)(z_k - m)^T / (1 - sum_k w_k^2)``, which equals the /(N - 1) one for
    uniform weights, and ``N_eff = 1 / sum_k w_k^2`` (Kish).
    """
    if w is None:
        zc = z - z.mean(axis=0)
        return zc.T @ zc / (len(z) - 1.0), float(len(z))
    w = w / w.sum()
    sum_w2 = float(w @ w)
    zc = z - w @ z
    return (zc * w[:, None]).T @ zc / (1.0 - sum_w2), 1.0 / sum_w2


def _cholesky(c: np.ndarray, what: str) -> tuple[np.ndarray, float]:
    """Lower Cholesky factor and log-determinant; a clear error when C is singular."""
    bad = np.flatnonzero(~(np.diag(c) > 0))
    if bad.size == 0:
        try:
            chol = np.linalg.cholesky(c)
        except np.linalg.LinAlgError:
            chol = None
        if chol is not None and np.all(np.diag(chol) > 0):
            return chol, 2.0 * float(np.sum(np.log(np.diag(chol))))
    detail = f"column(s) {bad.tolist()} have zero variance" if bad.size else "columns are linearly dependent"
    raise ValueError(
        f"the covariance of the copula-normalised {what} is singular ({detail}). Drop "
        "duplicated, constant or (within a class) deterministic columns."
    )


def _inverse_diagonal(chol: np.ndarray) -> np.ndarray:
    """diag(C^-1) from C's lower Cholesky factor L: C^-1 = L^-T L^-1."""
    l_inv = linalg.solve_triangular(chol, np.eye(len(chol)), lower=True, check_finite=False)
    return np.einsum("ij,ij->j", l_inv, l_inv)


def _check_size(n_eff: float, dim: int, what: str) -> None:
    # Ince's bias terms need psi((N - k)/2) for k = 1..d, and a d-dimensional sample
    # covariance needs more than d samples.
    if not n_eff > dim:
        raise ValueError(
            f"{what} has effective sample size {n_eff:.6g}, too few for a {dim}-dimensional "
            f"covariance: more than {dim} samples are needed (with weights, "
            "(sum w)^2 / sum w^2). Use more samples or fewer features, or merge rare classes."
        )


@register
class GaussianCopulaEstimator(Estimator):
    """Gaussian-copula estimates (GCMI; SPEC 3, paper App. F.2, Ince et al. 2017), in bits.

    Each column of continuous data is ranked and mapped to a standard normal
    (rank / (N + 1), then the inverse normal CDF; ties share their mid-rank, where Ince's code
    breaks them arbitrarily). Entropies are those of the Gaussian fitted to the normalised
    data, ``(1/2) logdet(2 pi e C)``, minus Ince's analytic bias of the Gaussian log-det.

    - ``mutual_information(a, b)``: if ``b`` has integer, bool or string dtype it is a class
      label (several columns: each distinct row is one class), and
      ``I = H(A) - sum_y p(y) H(A | Y=y)`` with each class's own covariance and bias terms
      (Ince's ``gcmi_model_cd``); otherwise ``I = H(A) + H(B) - H(A,B)`` on the normalised
      data (``gcmi_cc``). ``a`` is always ranked, integer columns included; to treat an
      integer ``b`` as continuous, pass it as float.
    - ``entropy(a)``: the Gaussian entropy of the copula-normalised data. It is *not* the
      differential entropy of A: it ignores A's marginals (the same for any monotone transform
      of each column) and equals ``d/2 log2(2 pi e)`` minus the Gaussian copula's total
      correlation. Only differences of such entropies (the MI) are meaningful.

    GCMI is a lower bound on the true MI (exactly so, up to estimation error, for two
    continuous variables, and for a 1-D ``a`` against classes), and it misses non-monotone
    dependence: with ``V = sign(X1) * sign(X2)`` as a continuous target (an XOR),
    ``I(X1, X2; V)`` is near 0 although the true value is 1 bit. Against class labels only
    differences in class means and covariances are seen.

    Parameters
    ----------
    bias_correct : bool, default True
        Apply Ince's analytic bias correction of every Gaussian entropy:
        ``H -= d (ln 2 - ln(N - 1)) / 2 + sum_{k=1..d} psi((N - k) / 2) / 2`` (nats).
    device : {None, "cpu", "cuda", "cuda:<index>"} or torch.device
        Run ``leave_one_out`` in torch on this device (a tensor X alone selects its own device);
        None: NumPy. ``entropy`` and ``mutual_information`` always run in NumPy.

    Notes
    -----
    Sample weights are handled approximately, not exactly: a weighted copula (weighted
    mid-ranks, equal to rank / (N + 1) for uniform weights), reliability-weighted covariances
    and the effective sample size ``(sum w)^2 / sum w^2`` in place of N in the bias terms.
    A d-dimensional covariance needs more than d samples (of each class, for class labels);
    constant columns are rejected.
    """

    name = "gcmi"
    torch_backend = True

    def __init__(self, bias_correct: bool = True, device: Any = None):
        if not isinstance(bias_correct, (bool, np.bool_)):
            raise ValueError(f"`bias_correct` must be True or False, got {bias_correct!r}.")
        self.bias_correct = bool(bias_correct)
        self.device = check_device(device)

    # -- pieces ---------------------------------------------------------------------------------
    def _bias(self, dim: int, n_eff: Any) -> Any:
        """Ince's bias of the Gaussian entropy estimate, in nats (to subtract); broadcasts over
        an array of effective sample sizes."""
        n_eff = np.asarray(n_eff, dtype=np.float64)
        if not self.bias_correct or dim == 0:
            return np.zeros_like(n_eff)
        k = np.arange(1, dim + 1)
        psi_sum = special.psi((n_eff[..., None] - k) / 2.0).sum(axis=-1)
        return dim * (_LN2 - np.log(n_eff - 1.0)) / 2.0 + psi_sum / 2.0

    def _entropy_nats(self, c: np.ndarray, n_eff: float, what: str) -> float:
        """Gaussian entropy without its constant d/2 ln(2 pi e) (it cancels in every MI)."""
        _check_size(n_eff, len(c), what)
        return 0.5 * _cholesky(c, what)[1] - float(self._bias(len(c), n_eff))

    def _classes(self, v: np.ndarray, w: np.ndarray | None, name: str):
        """Yield (label, sample index, class weights or None, p(y)) for every class of v with
        positive weight."""
        if v.shape[1] == 1:
            values, labels = np.unique(v[:, 0], return_inverse=True)
        else:
            values, labels = np.unique(v, axis=0, return_inverse=True)
        labels = labels.ravel()
        n_samples = len(v)
        for y in range(len(values)):
            idx = np.flatnonzero(labels == y)
            label = values[y].item() if v.shape[1] == 1 else tuple(values[y].tolist())
            what = f"class {label!r} of `{name}`"
            if w is None:
                yield what, idx, None, len(idx) / n_samples
            else:
                p = float(w[idx].sum())
                if p > 0:
                    yield what, idx, w[idx] / p, p

    # -- the Estimator interface ---------------------------------------------------------------
    def _entropy(self, a, w):
        z = _copula(a, w, "a")
        c, n_eff = _covariance(z, w)
        return (self._entropy_nats(c, n_eff, "`a`") + len(c) * _HALF_LOG_2PIE) / _LN2

    def _mutual_information(self, a, b, w):
        za = _copula(a, w, "a")
        if _is_discrete(b):
            return self._mi_classes(za, b, w, "a", "b")
        zb = _copula(b, w, "b")
        c, n_eff = _covariance(np.hstack([za, zb]), w)
        da = za.shape[1]
        _check_size(n_eff, len(c), "(`a`, `b`)")
        h_a = self._entropy_nats(c[:da, :da], n_eff, "`a`")
        h_b = self._entropy_nats(c[da:, da:], n_eff, "`b`")
        h_ab = self._entropy_nats(c, n_eff, "(`a`, `b`)")
        return (h_a + h_b - h_ab) / _LN2

    def _mi_classes(self, za, v, w, a_name, v_name):
        """Ince's gcmi_model_cd: H(A) - sum_y p(y) H(A | Y=y), class-wise Gaussian fits."""
        c, n_eff = _covariance(za, w)
        mi = self._entropy_nats(c, n_eff, f"`{a_name}`")
        for what, idx, wy, p in self._classes(v, w, v_name):
            cy, n_eff_y = _covariance(za[idx], wy)
            mi -= p * self._entropy_nats(cy, n_eff_y, f"`{a_name}` in {what}")
        return mi / _LN2

    def _leave_one_out(self, X, v, w):
        if _is_tensor(X):
            from .torch_backend import gcmi_leave_one_out

            return gcmi_leave_one_out(self, X, v, w)
        z = _copula(X, w, "X")
        n = z.shape[1]
        if _is_discrete(v):
            return self._leave_one_out_classes(z, v, w)
        zv = _copula(v, w, "v")
        m = zv.shape[1]
        c, n_eff = _covariance(np.hstack([z, zv]), w)
        _check_size(n_eff, n + m, "(`X`, `v`)")
        chol_x, ld_x = _cholesky(c[:n, :n], "`X`")
        chol_v, ld_v = _cholesky(c[n:, n:], "`v`")
        chol_xv, ld_xv = _cholesky(c, "(`X`, `v`)")
        # SPEC 3: logdet(C_-i,-i) = logdet(C) + log((C^-1)_ii), for C_X and for C_(X,V).
        ld_x_minus = ld_x + np.log(_inverse_diagonal(chol_x))
        ld_xv_minus = ld_xv + np.log(_inverse_diagonal(chol_xv)[:n])
        # Singles: det C_(Xi,V) = det C_V * (c_ii - c_iV C_V^-1 c_Vi).
        var = np.diag(c)[:n]
        half = linalg.solve_triangular(chol_v, c[n:, :n], lower=True, check_finite=False)
        schur = var - np.einsum("ji,ji->i", half, half)
        bias = lambda d: float(self._bias(d, n_eff))  # noqa: E731
        joint = 0.5 * (ld_x + ld_v - ld_xv) - bias(n) - bias(m) + bias(n + m)
        complement = 0.5 * (ld_x_minus + ld_v - ld_xv_minus) - bias(n - 1) - bias(m) + bias(n - 1 + m)
        single = 0.5 * np.log(var / schur) - bias(1) - bias(m) + bias(1 + m)
        return LeaveOneOut(float(joint / _LN2), single / _LN2, complement / _LN2)

    def _leave_one_out_classes(self, z, v, w):
        n = z.shape[1]

        def pieces(c, n_eff, what):
            """H(X), every H(X_i), every H(X_-i) without their constants, in nats."""
            _check_size(n_eff, n, what)
            chol, ld = _cholesky(c, what)
            ld_minus = ld + np.log(_inverse_diagonal(chol))
            b = lambda d: float(self._bias(d, n_eff))  # noqa: E731
            return (
                0.5 * ld - b(n),
                0.5 * np.log(np.diag(c)) - b(1),
                0.5 * ld_minus - b(n - 1),
            )

        c, n_eff = _covariance(z, w)
        joint, single, complement = pieces(c, n_eff, "`X`")
        for what, idx, wy, p in self._classes(v, w, "v"):
            cy, n_eff_y = _covariance(z[idx], wy)
            hj, hs, hc = pieces(cy, n_eff_y, f"`X` in {what}")
            joint, single, complement = joint - p * hj, single - p * hs, complement - p * hc
        return LeaveOneOut(float(joint / _LN2), single / _LN2, complement / _LN2)
