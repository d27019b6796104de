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

import contextlib
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import linalg, special, stats

from .base import Estimator, LeaveOneOut, _is_tensor, check_device, register
from .kde import constant_columns, leave_one_out_varying, non_negative_float

_LN2 = math.log(2.0)
# Entropy of one standard normal dimension, in nats: (ln(2 pi) + 1) / 2.
_HALF_LOG_2PIE = 0.5 * (math.log(2.0 * math.pi) + 1.0)


# BLAS (OpenBLAS) threads on small matrices cost far more than they save: a 20 x 20 triangular
# solve takes ~0.01 ms on one thread and 10-20 ms with two on a loaded 2-core machine, and the
# idle workers spin after each call, taking the core from the sorting that follows. At a few
# hundred columns a covariance, its Cholesky factor and inverse take well under 0.1 s on one
# thread. Entering a cached threadpoolctl limit costs ~0.015 ms (``threadpool_limits`` ~0.5 ms).
# (The KDE estimators gain nothing: their BLAS calls, matrix-vector products, run on one thread.)
SMALL_BLAS_DIM = 256
_blas_pools: Any = None


def one_blas_thread(dim: int):
    """Context manager: BLAS limited to one thread when ``dim`` (columns) <= SMALL_BLAS_DIM;
    a no-op for larger matrices or without threadpoolctl."""
    global _blas_pools
    if dim > SMALL_BLAS_DIM:
        return contextlib.nullcontext()
    if _blas_pools is None:
        try:
            from threadpoolctl import ThreadpoolController

            _blas_pools = ThreadpoolController().select(user_api="blas")
        except Exception:  # pragma: no cover - threadpoolctl comes with scikit-learn
            _blas_pools = False
    return _blas_pools.limit(limits=1) if _blas_pools else contextlib.nullcontext()


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

    A column constant over the samples of positive weight (within a class, as the whole data
    have none) is centred to exactly 0, so its variance and covariances are exactly 0, not the
    rounding error of its mean.
    """
    constant = constant_columns(z, w)
    if w is None:
        zc = z - z.mean(axis=0)
        zc[:, constant] = 0.0
        return zc.T @ zc / (len(z) - 1.0), float(len(z))
    w = w / w.sum()
    sum_w2 = float(w @ w)
    zc = z - w @ z
    zc[:, constant] = 0.0
    return (zc * w[:, None]).T @ zc / (1.0 - sum_w2), kish_n(sum_w2)


def kish_n(sum_w2: float) -> float:
    """Kish's effective sample size ``1 / sum w^2`` of normalised weights, snapped to the
    nearest integer when it is one up to rounding: equal weights over m samples give m exactly,
    not m + 4e-15, which would pass the ``N_eff > dim`` size checks of an m-sample class of
    dimension m and put psi(2e-15) into Ince's bias (a value of ~1e12 bits)."""
    n_eff = 1.0 / sum_w2
    nearest = round(n_eff)
    return float(nearest) if abs(n_eff - nearest) <= 1e-9 * n_eff else n_eff


def _floored(c: np.ndarray, ridge: float) -> np.ndarray:
    """C with every variance below ``ridge`` raised to ``ridge`` (a copy if any is)."""
    d = np.diag(c)
    low = np.flatnonzero(d < ridge)
    if low.size:
        c = c.copy()
        c[low, low] = ridge
    return c


def _factor(c: np.ndarray, ridge: float) -> np.ndarray | None:
    """Lower Cholesky factor of C if C is regular to within ``ridge``, else None.

    Regular: every variance positive, and every pivot ``L_jj^2`` (the variance of column j given
    the columns before it) positive and at least ``ridge`` times the variance ``c_jj``. A pivot
    of an ordered principal submatrix is a variance given fewer columns, so it is never smaller:
    when C passes, so does every C_S,S (the fast leave-one-out paths rely on this).
    """
    d = np.diag(c)
    if not np.all(d > 0):
        return None
    try:
        chol = np.linalg.cholesky(c)
    except np.linalg.LinAlgError:
        return None
    p = np.diag(chol)
    if not np.all(p > 0) or (ridge > 0 and np.any(p * p < ridge * d)):
        return None
    return chol


def _log_det(chol: np.ndarray) -> float:
    return 2.0 * float(np.sum(np.log(np.diag(chol))))


def _singular(c: np.ndarray, what: str) -> ValueError:
    bad = np.flatnonzero(~(np.diag(c) > 0))
    detail = f"column(s) {bad.tolist()} have zero variance" if bad.size else "columns are linearly dependent"
    return ValueError(
        f"the covariance of the copula-normalised {what} is singular ({detail}). Drop "
        "duplicated, constant or (within a class) deterministic columns, or set `ridge` > 0."
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
    ridge : float, default 1e-6
        Regularisation of singular covariances of the copula-normalised data (whose variances
        are about 1), ours. Every covariance C whose log-determinant enters an estimate (of A,
        of (A, B), of A within a class of B) is treated so: (1) a variance below ``ridge`` is
        raised to ``ridge`` (a column constant within a class, e.g. a ReLU unit dead for that
        class, has variance 0); (2) if C is then still singular to within ``ridge`` (its
        Cholesky factor fails, or a column's variance given the preceding columns is below
        ``ridge`` times its variance: a column (nearly) determined by others), ``ridge`` is
        added to the whole diagonal of C instead (so a zero variance becomes ``ridge`` again).
        A covariance that passes both tests is used as it is, so well-conditioned data get
        Ince's estimates exactly. Each such column caps an otherwise infinite information at
        about ``p(y) * log2(1 / ridge) / 2`` bits (~10 bits times the class's probability at
        1e-6, as ``kde``'s ``min_class_sigma=1e-3``). 0 turns this off: singular covariances
        raise ``ValueError`` (nearly singular ones give the unregularised, very large values).
    device : {None, "cpu", "cuda", "cuda:<index>"} or torch.device
        Run ``leave_one_out`` in torch on this device (a tensor X alone selects its own device);
        None: NumPy. ``entropy`` and ``mutual_information`` always run in NumPy.

    Notes
    -----
    Sample weights are handled approximately, not exactly: a weighted copula (weighted
    mid-ranks, equal to rank / (N + 1) for uniform weights), reliability-weighted covariances
    and the effective sample size ``(sum w)^2 / sum w^2`` in place of N in the bias terms.
    A d-dimensional covariance needs more than d samples: too few in all raises ``ValueError``;
    a class with too few (a rare (Yhat, Y) pair, say) is taken to carry no information,
    ``H(A | B=b) = H(A)`` (ours, as ``kde`` does for single-sample classes), which biases I(A;B)
    down by at most that class's share. The rule applies per subset: in ``leave_one_out`` a
    class of N_eff samples with 1 < N_eff <= n still counts for each I(X_i;V), and for each
    I(X_-i;V) when N_eff > n - 1, as in the direct per-subset computation. Equal weights over
    m samples give N_eff = m exactly (see :func:`kish_n`).

    Columns constant over all samples (of positive weight) carry no information and are
    dropped: ``I(A;B)`` and ``leave_one_out`` are those of the varying columns (a constant
    column i of X gets ``I(X_i;V) = 0`` and ``I(X_-i;V) = I(X;V)``), and 0 if no column of A (or
    of a continuous B) varies. ``entropy`` of a constant column, whose copula ranks are arbitrary,
    raises ``ValueError``. Within a class (or with columns determined by others) see ``ridge``.
    The leave-one-out path uses Schur complements of one Cholesky factor per covariance; a
    covariance that needs the ridge of step (2) is instead handled one subset at a time (n + 1
    factorisations of that covariance).

    BLAS runs on one thread inside these computations when there are at most
    ``SMALL_BLAS_DIM`` (256) columns: on small matrices OpenBLAS threads cost far more than
    they save (20 x 20 triangular solve: ~0.01 ms on one thread, 10-20 ms on two shared cores).
    """

    name = "gcmi"
    torch_backend = True

    def __init__(self, bias_correct: bool = True, ridge: float = 1e-6, device: Any = None):
        if not isinstance(bias_correct, (bool, np.bool_)):
            raise ValueError(f"`bias_correct` must be True or False, got {bias_correct!r}.")
        self.bias_correct = bool(bias_correct)
        self.ridge = non_negative_float(ridge, "ridge")
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

    def log_det(self, c: np.ndarray, what: str) -> float:
        """log det C, regularised as the ``ridge`` option says (or an error if it is 0)."""
        chol = _factor(_floored(c, self.ridge), self.ridge)
        if chol is None and self.ridge > 0:
            chol = _factor(c + self.ridge * np.eye(len(c)), 0.0)
        if chol is None:
            raise _singular(c, what)
        return _log_det(chol)

    def _entropy_nats(self, c: np.ndarray, n_eff: float, what: str) -> float:
        """Gaussian entropy without its constant d/2 ln(2 pi e) (it cancels in every MI)."""
        _check_size(n_eff, len(c), what)
        return 0.5 * self.log_det(c, what) - float(self._bias(len(c), n_eff))

    def loo_log_dets(self, c: np.ndarray, what: str) -> tuple[float, np.ndarray, np.ndarray]:
        """log det of C, of every 1 x 1 C_ii and of every C_-i,-i, each as ``log_det`` has it.

        Regular C (the usual case): one Cholesky factor and
        ``logdet(C_-i,-i) = logdet(C) + log((C^-1)_ii)``; else one factorisation per subset.
        """
        cf = _floored(c, self.ridge)
        chol = _factor(cf, self.ridge)
        if chol is not None:
            ld = _log_det(chol)
            return ld, np.log(np.diag(cf)), ld + np.log(_inverse_diagonal(chol))
        ld = self.log_det(c, what)  # raises when ridge is 0
        n = len(c)
        minus = np.array([self.log_det(np.delete(np.delete(c, i, 0), i, 1), what) for i in range(n)])
        return ld, np.log(np.diag(cf)), minus

    def small_class_pieces(self, cy: np.ndarray, n_eff: float, unconditional: tuple, what: str,
                           convert: Callable[[np.ndarray], Any] = lambda a: a) -> tuple:
        """(H, H_i, H_-i) pieces, in nats without constants, of a class too small for H(X | y)
        (``N_eff <= n``): every H(X_i | y) when ``N_eff > 1`` and every H(X_-i | y) when
        ``N_eff > n - 1`` (computed from ``cy`` and passed through ``convert``), the other pieces
        those of ``unconditional`` (no information), so the fast path gives what the direct
        per-subset computation gives."""
        n = len(cy)
        joint, single, complement = unconditional
        if n_eff > 1:
            single = convert(0.5 * np.log(np.diag(_floored(cy, self.ridge))) - float(self._bias(1, n_eff)))
        if n > 1 and n_eff > n - 1:
            minus = np.array([self.log_det(np.delete(np.delete(cy, i, 0), i, 1), what) for i in range(n)])
            complement = convert(0.5 * minus - float(self._bias(n - 1, n_eff)))
        return joint, single, complement

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
        with one_blas_thread(a.shape[1]):
            z = _copula(a, w, "a")
            c, n_eff = _covariance(z, w)
            return (self._entropy_nats(c, n_eff, "`a`") + len(c) * _HALF_LOG_2PIE) / _LN2

    def _mutual_information(self, a, b, w):
        a = _check_numeric(a, "a")
        discrete = _is_discrete(b)
        # Constant columns carry no information (class docstring).
        a = a[:, ~constant_columns(a, w)]
        if not discrete:
            b = _check_numeric(b, "b")
            b = b[:, ~constant_columns(b, w)]
        if a.shape[1] == 0 or b.shape[1] == 0:
            return 0.0
        with one_blas_thread(a.shape[1] + (0 if discrete else b.shape[1])):
            za = _copula(a, w, "a")
            if discrete:
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
        h_a = mi
        for what, idx, wy, p in self._classes(v, w, v_name):
            with np.errstate(divide="ignore", invalid="ignore"):  # a 1-sample class is discarded below
                cy, n_eff_y = _covariance(za[idx], wy)
            if n_eff_y <= len(cy):
                mi -= p * h_a  # too few samples: no information (class docstring)
            else:
                mi -= p * self._entropy_nats(cy, n_eff_y, f"`{a_name}` in {what}")
        return mi / _LN2

    def _leave_one_out(self, X, v, w):
        if not _is_tensor(X):
            X = _check_numeric(X, "X")
        discrete = _is_discrete(v)
        if not discrete:
            v = _check_numeric(v, "v")
        return leave_one_out_varying(self, X, v, w, self._leave_one_out_varying, not discrete)

    def _leave_one_out_varying(self, X, v, w):
        """Leave-one-out of X and v without constant columns."""
        if _is_tensor(X):
            from .torch_backend import gcmi_leave_one_out

            return gcmi_leave_one_out(self, X, v, w)
        discrete = _is_discrete(v)
        with one_blas_thread(X.shape[1] + (0 if discrete else v.shape[1])):
            z = _copula(X, w, "X")
            if discrete:
                return self._leave_one_out_classes(z, v, w)
            zv = _copula(v, w, "v")
            c, n_eff = _covariance(np.hstack([z, zv]), w)
            _check_size(n_eff, len(c), "(`X`, `v`)")
            return self.leave_one_out_continuous(c, z.shape[1], n_eff)

    def leave_one_out_continuous(self, c: np.ndarray, n: int, n_eff: float) -> LeaveOneOut:
        """Leave-one-out from the covariance of (X, V), X its first n columns."""
        m = len(c) - n
        bias = lambda d: float(self._bias(d, n_eff))  # noqa: E731
        cf = _floored(c, self.ridge)
        chol_xv = _factor(cf, self.ridge)
        chol_x = chol_v = None
        if chol_xv is not None:  # then C_X and C_V pass too (``_factor``), barring rounding
            chol_x, chol_v = _factor(cf[:n, :n], self.ridge), _factor(cf[n:, n:], self.ridge)
        var = np.diag(cf)[:n]
        if chol_x is not None and chol_v is not None:
            ld_x, ld_v, ld_xv = _log_det(chol_x), _log_det(chol_v), _log_det(chol_xv)
            # SPEC 3: logdet(C_-i,-i) = logdet(C) + log((C^-1)_ii), for C_X and for C_(X,V).
            ld_x_minus = ld_x + np.log(_inverse_diagonal(chol_x))
            ld_xv_minus = ld_xv + np.log(_inverse_diagonal(chol_xv)[:n])
            # Singles: det C_(Xi,V) = det C_V * (c_ii - c_iV C_V^-1 c_Vi).
            half = linalg.solve_triangular(chol_v, cf[n:, :n], lower=True, check_finite=False)
            ld_xi_v = ld_v + np.log(var - np.einsum("ji,ji->i", half, half))
        else:  # singular to within the ridge: every subset on its own (class docstring)
            x, vs = np.arange(n), np.arange(n, n + m)

            def sub(idx, what="(`X`, `v`)"):
                return self.log_det(c[np.ix_(idx, idx)], what)

            ld_x, ld_v, ld_xv = sub(x, "`X`"), sub(vs, "`v`"), sub(np.arange(n + m))
            ld_x_minus = np.array([sub(np.delete(x, i), "`X`") for i in range(n)])
            ld_xv_minus = np.array([sub(np.concatenate([np.delete(x, i), vs])) for i in range(n)])
            ld_xi_v = np.array([sub(np.concatenate([[i], vs])) for i in range(n)])
        joint = 0.5 * (ld_x + ld_v - ld_xv) - bias(n) - bias(m) + bias(n + m)
        complement = 0.5 * (ld_x_minus + ld_v - ld_xv_minus) - bias(n - 1) - bias(m) + bias(n - 1 + m)
        single = 0.5 * (np.log(var) + ld_v - ld_xi_v) - bias(1) - bias(m) + bias(1 + m)
        return LeaveOneOut(float(joint / _LN2), single / _LN2, complement / _LN2)

    def _leave_one_out_classes(self, z, v, w):
        n = z.shape[1]

        def pieces(c, n_eff, what):
            """H(X), every H(X_i), every H(X_-i) without their constants, in nats."""
            _check_size(n_eff, n, what)
            ld, ld_single, ld_minus = self.loo_log_dets(c, what)
            b = lambda d: float(self._bias(d, n_eff))  # noqa: E731
            return 0.5 * ld - b(n), 0.5 * ld_single - b(1), 0.5 * ld_minus - b(n - 1)

        c, n_eff = _covariance(z, w)
        unconditional = pieces(c, n_eff, "`X`")
        joint, single, complement = unconditional
        for what, idx, wy, p in self._classes(v, w, "v"):
            with np.errstate(divide="ignore", invalid="ignore"):  # a 1-sample class is discarded below
                cy, n_eff_y = _covariance(z[idx], wy)
            if n_eff_y > n:
                hj, hs, hc = pieces(cy, n_eff_y, f"`X` in {what}")
            else:  # too small for its covariance: no information where a subset is too small too
                hj, hs, hc = self.small_class_pieces(cy, n_eff_y, unconditional, f"`X` in {what}")
            joint, single, complement = joint - p * hj, single - p * hs, complement - p * hc
        return LeaveOneOut(float(joint / _LN2), single / _LN2, complement / _LN2)
