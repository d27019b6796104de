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

On a torch device (``gib._xp``) the copula ranks come from one sort per column (columns laid
out as rows: sorting along contiguous memory is several times faster), and every covariance,
factor and log-determinant stays on the device; only the n-vectors of results come back.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import special

from .. import _xp
from .._validation import non_negative_float, one_of
from .base import Entropies, Estimator, LeaveOneOut, check_device, constant_columns, is_discrete, leave_one_out_varying, register

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


def one_blas_thread(dim: int):
    """Context manager: BLAS limited to one thread when ``dim`` (columns) <= SMALL_BLAS_DIM
    (``_xp.one_blas_thread``); a no-op for larger matrices or without threadpoolctl."""
    return _xp.one_blas_thread(dim <= SMALL_BLAS_DIM)


def _check_numeric(a: Any, name: str) -> Any:
    if _xp.kind(a) in "US":
        raise TypeError(
            f"`{name}` holds strings, but gcmi treats `{name}` as continuous data to rank. "
            "Pass class labels as the second argument (`b` or `v`) instead, or encode them as "
            "numbers."
        )
    xp = _xp.namespace(a)
    return xp.astype(a, xp.uint8) if _xp.kind(a) == "b" else a


def _copula(a: Any, w: np.ndarray | None, name: str) -> Any:
    """Copula-normalise every column (of a NumPy array or a tensor on any device): standard
    normal scores of the (weighted) mid-ranks.

    Unweighted: ``ndtri(rank / (N + 1))`` with tied values sharing their mean rank. Weighted:
    with ``F`` the weighted empirical CDF at the middle of a value's tie group and ``M`` the
    number of samples of positive weight, ``u = (M * F + 1/2) / (M + 1)``; with uniform
    weights ``M * F + 1/2`` is the mid-rank, so this reduces to rank / (N + 1), and 0/1
    weights reproduce the unweighted result on the selected samples.
    """
    a = _check_numeric(a, name)
    xp = _xp.namespace(a)
    n_samples = a.shape[0]
    constant = np.flatnonzero(constant_columns(a, w))
    if constant.size:
        where = "" if w is None else " among the samples of positive weight"
        raise ValueError(
            f"`{name}` has constant column(s) {constant.tolist()}{where}: their copula ranks are "
            f"arbitrary and their covariance singular. Drop them first, e.g. "
            f"`{name}[:, {name}.std(axis=0) > 0]`."
        )
    # columns as rows (see the module docstring); a stable sort keeps weighted sums reproducible
    s, order = _xp.sort_with_indices(_xp.contiguous(a.T), axis=1, stable=w is not None)
    dev = _xp.device(a)
    idx = xp.arange(n_samples, device=dev)[None, :]
    starts = xp.ones(s.shape, dtype=xp.bool, device=dev)
    starts[:, 1:] = s[:, 1:] != s[:, :-1]
    ends = xp.ones(s.shape, dtype=xp.bool, device=dev)
    ends[:, :-1] = starts[:, 1:]
    # First and last sorted position of each sample's tie group.
    first = _xp.cummax(xp.where(starts, idx, 0), axis=1)
    last = xp.flip(_xp.cummin(xp.flip(xp.where(ends, idx, n_samples - 1), axis=1), axis=1), axis=1)
    if w is None:
        mid_rank = xp.astype(first + last, xp.float64) / 2.0 + 1.0
        u_sorted = mid_rank / (n_samples + 1.0)
    else:
        m = float(np.count_nonzero(w > 0))
        ws = _xp.asarray(w, a)[order]
        cum = xp.cumulative_sum(ws, axis=1)
        below = xp.take_along_axis(cum, first, axis=1) - xp.take_along_axis(ws, first, axis=1)
        mid = 0.5 * (below + xp.take_along_axis(cum, last, axis=1))
        u_sorted = (m * mid + 0.5) / (m + 1.0)
    return _xp.ndtri(_xp.scatter(u_sorted, order, axis=1)).T


def _covariance(z: Any, w: np.ndarray | None) -> tuple[Any, float]:
    """Covariance (unbiased: /(N - 1)) and effective sample size.

    Weights (normalised here) give the reliability-weighted covariance
    ``sum_k w_k (z_k - m)(z_k - m)^T / (1 - sum_k w_k^2)``, which equals the /(N - 1) one for
    uniform weights, and ``N_eff = 1 / sum_k w_k^2`` (Kish).

    A column constant over the samples of positive weight (within a class, as the whole data
    have none) is centred to exactly 0, so its variance and covariances are exactly 0, not the
    rounding error of its mean.
    """
    xp = _xp.namespace(z)
    constant = np.flatnonzero(constant_columns(z, w))
    if w is None:
        zc = z - xp.mean(z, axis=0)
        if constant.size:
            zc[:, _xp.asarray(constant, z)] = 0.0
        return zc.T @ zc / (z.shape[0] - 1.0), float(z.shape[0])
    w = w / w.sum()
    sum_w2 = float(w @ w)
    wt = _xp.asarray(w, z)
    zc = z - wt @ z
    if constant.size:
        zc[:, _xp.asarray(constant, z)] = 0.0
    return (zc * wt[:, None]).T @ zc / (1.0 - sum_w2), kish_n(sum_w2)


def kish_n(sum_w2: float) -> float:
    """Kish's effective sample size ``1 / sum w^2`` of normalised weights, snapped to the
    nearest integer when it is one up to rounding: equal weights over m samples give m exactly,
    not m + 4e-15, which would pass the ``N_eff > dim`` size checks of an m-sample class of
    dimension m and put psi(2e-15) into Ince's bias (a value of ~1e12 bits)."""
    n_eff = 1.0 / sum_w2
    nearest = round(n_eff)
    return float(nearest) if abs(n_eff - nearest) <= 1e-9 * n_eff else n_eff


def _diagonal(c: Any) -> Any:
    return _xp.namespace(c).linalg.diagonal(c)


def _floored(c: Any, ridge: float) -> Any:
    """C with every variance below ``ridge`` raised to ``ridge`` (a copy if any is)."""
    xp = _xp.namespace(c)
    low = xp.nonzero(_diagonal(c) < ridge)[0]
    if low.shape[0]:
        c = xp.asarray(c, copy=True)
        c[low, low] = ridge
    return c


def _factor(c: Any, ridge: float) -> Any | None:
    """Lower Cholesky factor of C if C is regular to within ``ridge``, else None.

    Regular: every variance positive, and every pivot ``L_jj^2`` (the variance of column j given
    the columns before it) positive and at least ``ridge`` times the variance ``c_jj``. A pivot
    of an ordered principal submatrix is a variance given fewer columns, so it is never smaller:
    when C passes, so does every C_S,S (the fast leave-one-out paths rely on this).
    """
    xp = _xp.namespace(c)
    d = _diagonal(c)
    if not bool(xp.all(d > 0)):
        return None
    chol = _xp.cholesky(c)
    if chol is None:
        return None
    p = _diagonal(chol)
    if not bool(xp.all(p > 0)) or (ridge > 0 and bool(xp.any(p * p < ridge * d))):
        return None
    return chol


def _log_det(chol: Any) -> float:
    xp = _xp.namespace(chol)
    return 2.0 * float(xp.sum(xp.log(_diagonal(chol))))


def _singular(c: Any, what: str) -> ValueError:
    bad = np.flatnonzero(~(_xp.to_numpy(_diagonal(c)) > 0))
    detail = f"column(s) {bad.tolist()} have zero variance" if bad.size else "columns are linearly dependent"
    return ValueError(
        f"the covariance of the copula-normalised {what} is singular ({detail}). Drop "
        "duplicated, constant or (within a class) deterministic columns, or set `ridge` > 0."
    )


def _inverse_diagonal(chol: Any) -> Any:
    """diag(C^-1) from C's lower Cholesky factor L: C^-1 = L^-T L^-1."""
    xp = _xp.namespace(chol)
    l_inv = _xp.solve_triangular(chol, xp.eye(chol.shape[0], dtype=chol.dtype, device=_xp.device(chol)))
    return xp.sum(l_inv * l_inv, axis=0)


def _principal(c: Any, index: np.ndarray) -> Any:
    """The principal submatrix C[index, index] (host index, C on any device)."""
    xp = _xp.namespace(c)
    idx = _xp.asarray(index, c)
    return xp.take(xp.take(c, idx, axis=0), idx, axis=1)


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
      integer ``b`` as continuous, pass it as float or set ``target_type="continuous"``.
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
    target_type : {"auto", "continuous"}, default "auto"
        How the second argument (``b`` of ``mutual_information``, ``v`` of ``leave_one_out``)
        is read. "auto": integer, bool and string data are class labels, floating-point data
        continuous (SPEC 3). "continuous" (ours): always ranked as continuous values, integer
        codes included, e.g. the binned regression targets Z = (Yhat, Y) of the `functions`
        experiment, which as labels would split into up to bins^2 classes, most too small for a
        class covariance (App. F.2: GCMI needs no discretisation). Strings still raise. (Not
        ``target``: ``gib_point(target=...)`` already names the choice of Z.)
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

    Negative MI is expected for (nearly) independent A and B: Ince's bias correction makes the
    estimate unbiased on average for Gaussian data, so single estimates scatter around 0 on
    both sides. Independent standard normals: means within 0.015 bits of 0 at N = 40, with
    draws down to -0.075 bits (1-D A against 3 classes), -0.16 (2-D A against 3 classes) and
    -0.02 (1-D against 1-D); down to -0.012 at N = 400 and -0.001 at N = 4000. Read such values
    as no information, not as an error.

    BLAS runs on one thread inside these computations when there are at most
    ``SMALL_BLAS_DIM`` (256) columns: on small matrices OpenBLAS threads cost far more than
    they save (20 x 20 triangular solve: ~0.01 ms on one thread, 10-20 ms on two shared cores).
    """

    name = "gcmi"
    array_api = True

    def __init__(self, bias_correct: bool = True, ridge: float = 1e-6, target_type: str = "auto", device: Any = None):
        if not isinstance(bias_correct, (bool, np.bool_)):
            raise ValueError(f"`bias_correct` must be True or False, got {bias_correct!r}.")
        self.bias_correct = bool(bias_correct)
        self.ridge = non_negative_float(ridge, "ridge")
        self.target_type = one_of(target_type, "target_type", ("auto", "continuous"))
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

    def _classes_of(self, b: np.ndarray) -> bool:
        """Whether the second argument holds class labels (the ``target_type`` option)."""
        return self.target_type == "auto" and is_discrete(b)

    def _continuous(self, b: np.ndarray, name: str) -> np.ndarray:
        b = _check_numeric(b, name)
        return b.astype(np.float64) if b.dtype.kind in "iu" else b

    def log_det(self, c: Any, what: str) -> float:
        """log det C, regularised as the ``ridge`` option says (or an error if it is 0)."""
        chol = _factor(_floored(c, self.ridge), self.ridge)
        if chol is None and self.ridge > 0:
            xp = _xp.namespace(c)
            chol = _factor(c + self.ridge * xp.eye(c.shape[0], dtype=c.dtype, device=_xp.device(c)), 0.0)
        if chol is None:
            raise _singular(c, what)
        return _log_det(chol)

    def _entropy_nats(self, c: Any, n_eff: float, what: str) -> float:
        """Gaussian entropy without its constant d/2 ln(2 pi e) (it cancels in every MI)."""
        _check_size(n_eff, c.shape[0], what)
        return 0.5 * self.log_det(c, what) - float(self._bias(c.shape[0], n_eff))

    def _minus_one_log_dets(self, c: Any, what: str) -> Any:
        """Every log det C_-i,-i, one factorisation each (C singular to within the ridge)."""
        n = c.shape[0]
        values = [self.log_det(_principal(c, np.delete(np.arange(n), i)), what) for i in range(n)]
        return _xp.asarray(np.array(values), c)

    def loo_log_dets(self, c: Any, what: str) -> tuple[float, Any, Any]:
        """log det of C, of every 1 x 1 C_ii and of every C_-i,-i, each as ``log_det`` has it.

        Regular C (the usual case): one Cholesky factor and
        ``logdet(C_-i,-i) = logdet(C) + log((C^-1)_ii)``; else one factorisation per subset.
        """
        xp = _xp.namespace(c)
        cf = _floored(c, self.ridge)
        chol = _factor(cf, self.ridge)
        if chol is not None:
            ld = _log_det(chol)
            return ld, xp.log(_diagonal(cf)), ld + xp.log(_inverse_diagonal(chol))
        ld = self.log_det(c, what)  # raises when ridge is 0
        return ld, xp.log(_diagonal(cf)), self._minus_one_log_dets(c, what)

    def small_class_pieces(self, cy: Any, n_eff: float, unconditional: tuple, what: str) -> tuple:
        """(H, H_i, H_-i) pieces, in nats without constants, of a class too small for H(X | y)
        (``N_eff <= n``): every H(X_i | y) when ``N_eff > 1`` and every H(X_-i | y) when
        ``N_eff > n - 1`` (computed from ``cy``), the other pieces those of ``unconditional``
        (no information), so the fast path gives what the direct per-subset computation gives."""
        xp = _xp.namespace(cy)
        n = cy.shape[0]
        joint, single, complement = unconditional
        if n_eff > 1:
            variances = _diagonal(_floored(cy, self.ridge))
            if not bool(xp.all(variances > 0)):  # ridge 0 and a column constant in the class
                raise _singular(cy, what)
            single = 0.5 * xp.log(variances) - float(self._bias(1, n_eff))
        if n > 1 and n_eff > n - 1:
            complement = 0.5 * self._minus_one_log_dets(cy, what) - float(self._bias(n - 1, n_eff))
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
        discrete = self._classes_of(b)
        # Constant columns carry no information (class docstring).
        a = a[:, ~constant_columns(a, w)]
        if not discrete:
            b = self._continuous(b, "b")
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
        X = _check_numeric(X, "X")
        discrete = self._classes_of(v)
        if not discrete:
            v = self._continuous(v, "v")
        return leave_one_out_varying(self, X, v, w, self._leave_one_out_varying, not discrete)

    def _leave_one_out_varying(self, X, v, w):
        """Leave-one-out of X (on any device) and v without constant columns."""
        discrete = self._classes_of(v)
        with one_blas_thread(X.shape[1] + (0 if discrete else v.shape[1])):
            z = _copula(X, w, "X")
            if discrete:
                return self._leave_one_out_classes(z, v, w)
            zv = _xp.asarray(_copula(v, w, "v"), z)  # V's scores on the host, then next to X's
            xp = _xp.namespace(z)
            c, n_eff = _covariance(xp.concat((z, zv), axis=1), w)
            _check_size(n_eff, c.shape[0], "(`X`, `v`)")
            return self.leave_one_out_continuous(c, z.shape[1], n_eff)

    def leave_one_out_continuous(self, c: Any, n: int, n_eff: float) -> LeaveOneOut:
        """Leave-one-out from the covariance of (X, V) (on any device), X its first n columns."""
        xp = _xp.namespace(c)
        m = c.shape[0] - n
        bias = lambda d: float(self._bias(d, n_eff))  # noqa: E731
        cf = _floored(c, self.ridge)
        chol_xv = _factor(cf, self.ridge)
        chol_x = chol_v = None
        if chol_xv is not None:  # then C_X and C_V pass too (``_factor``), barring rounding
            chol_x, chol_v = _factor(cf[:n, :n], self.ridge), _factor(cf[n:, n:], self.ridge)
        var = _diagonal(cf)[:n]
        if chol_x is not None and chol_v is not None:
            ld_x, ld_v, ld_xv = _log_det(chol_x), _log_det(chol_v), _log_det(chol_xv)
            # SPEC 3: logdet(C_-i,-i) = logdet(C) + log((C^-1)_ii), for C_X and for C_(X,V).
            ld_x_minus = ld_x + xp.log(_inverse_diagonal(chol_x))
            ld_xv_minus = ld_xv + xp.log(_inverse_diagonal(chol_xv)[:n])
            # Singles: det C_(Xi,V) = det C_V * (c_ii - c_iV C_V^-1 c_Vi).
            half = _xp.solve_triangular(chol_v, cf[n:, :n])
            ld_xi_v = ld_v + xp.log(var - xp.sum(half * half, axis=0))
        else:  # singular to within the ridge: every subset on its own (class docstring)
            x, vs = np.arange(n), np.arange(n, n + m)

            def sub(idx, what="(`X`, `v`)"):
                return self.log_det(_principal(c, idx), what)

            def each(subsets, what="(`X`, `v`)"):
                return _xp.asarray(np.array([sub(idx, what) for idx in subsets]), c)

            ld_x, ld_v, ld_xv = sub(x, "`X`"), sub(vs, "`v`"), sub(np.arange(n + m))
            ld_x_minus = each([np.delete(x, i) for i in range(n)], "`X`")
            ld_xv_minus = each([np.concatenate([np.delete(x, i), vs]) for i in range(n)])
            ld_xi_v = each([np.concatenate([[i], vs]) for i in range(n)])
        joint = 0.5 * (ld_x + ld_v - ld_xv) - bias(n) - bias(m) + bias(n + m)
        complement = 0.5 * (ld_x_minus + ld_v - ld_xv_minus) - bias(n - 1) - bias(m) + bias(n - 1 + m)
        single = 0.5 * (xp.log(var) + ld_v - ld_xi_v) - bias(1) - bias(m) + bias(1 + m)
        return LeaveOneOut(float(joint / _LN2), _xp.to_numpy(single) / _LN2, _xp.to_numpy(complement) / _LN2)

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
                cy, n_eff_y = _covariance(_xp.rows(z, idx), wy)
            if n_eff_y > n:
                hj, hs, hc = pieces(cy, n_eff_y, f"`X` in {what}")
            else:  # too small for its covariance: no information where a subset is too small too
                hj, hs, hc = self.small_class_pieces(cy, n_eff_y, unconditional, f"`X` in {what}")
            joint, single, complement = joint - p * hj, single - p * hs, complement - p * hc
        return LeaveOneOut(float(joint / _LN2), _xp.to_numpy(single) / _LN2, _xp.to_numpy(complement) / _LN2)

    # -- subset entropies (the higher-order measures; SPEC 3) ------------------------------------
    def _subset_covariance(self, X, w, largest: int):
        """(covariance of the copula-normalised X, its effective sample size), checked for the
        size of the largest subset estimated, of ``largest`` columns (as the direct computation
        checks each subset)."""
        z = _copula(_check_numeric(X, "X"), w, "X")
        c, n_eff = _covariance(z, w)
        _check_size(n_eff, largest, "`X`")
        return c, n_eff

    def _bits(self, log_det: Any, dim: int, n_eff: float) -> Any:
        """Gaussian entropy in bits, constant included, from a log-determinant of ``dim`` columns."""
        return (0.5 * log_det - float(self._bias(dim, n_eff)) + dim * _HALF_LOG_2PIE) / _LN2

    def _entropies(self, X, w):
        n = X.shape[1]
        with one_blas_thread(n):
            c, n_eff = self._subset_covariance(X, w, n)
            # SPEC 3: logdet(C_-i,-i) = logdet(C) + log((C^-1)_ii)
            ld, ld_single, ld_minus = self.loo_log_dets(c, "`X`")
            return Entropies(float(self._bits(ld, n, n_eff)), _xp.to_numpy(self._bits(ld_single, 1, n_eff)),
                             _xp.to_numpy(self._bits(ld_minus, n - 1, n_eff)))

    def _pair_complement_entropies(self, X, w):
        n = X.shape[1]
        with one_blas_thread(n):
            c, n_eff = self._subset_covariance(X, w, n - 1)  # C itself is only factorised
            xp = _xp.namespace(c)
            cf = _floored(c, self.ridge)
            chol = _factor(cf, self.ridge)
            if chol is not None:
                # Jacobi's complementary minors: det C_-S,-S = det C * det (C^-1)_S,S, so with
                # P = C^-1, logdet C_-{i,j} = logdet C + log(P_ii P_jj - P_ij^2) (SPEC 3)
                ld = _log_det(chol)
                p = _inverse(chol)
                d = _diagonal(p)
                minors = d[:, None] * d[None, :] - p * p
                diagonal = xp.arange(n, device=_xp.device(p))
                minors[diagonal, diagonal] = d  # the diagonal: C_-i,-i, the 1 x 1 minor P_ii
                ld_pairs = _xp.to_numpy(ld + xp.log(minors))
            else:  # singular to within the ridge: every subset on its own (class docstring)
                ld_pairs = np.zeros((n, n))
                for i in range(n):
                    for j in range(i, n):
                        if n > 2 or i == j:
                            rest = np.delete(np.arange(n), [i, j])
                            ld_pairs[i, j] = ld_pairs[j, i] = self.log_det(_principal(c, rest), "`X`")
        h = np.where(np.eye(n, dtype=bool), self._bits(ld_pairs, n - 1, n_eff), self._bits(ld_pairs, n - 2, n_eff))
        if n == 2:  # X_-{0,1} is empty
            h[0, 1] = h[1, 0] = 0.0
        return h

    def _subset_entropies(self, X, w):
        """Batched subset entropies (``Estimator.subset_entropies``): one copula covariance C of
        X, then H(X_S) from the log-determinant of each principal submatrix C_S,S, a stack of
        ``_SUBSET_STACK`` of them eliminated at once (``_stacked_pivots``); a submatrix singular
        to within the ridge is regularised on its own, as ``log_det`` does."""
        with one_blas_thread(X.shape[1]):
            c, n_eff = _covariance(_copula(_check_numeric(X, "X"), w, "X"), w)

        def entropies(subsets: np.ndarray) -> np.ndarray:
            m, s = subsets.shape
            _check_size(n_eff, s, "`X`")
            out = np.empty(m)
            for start in range(0, m, _SUBSET_STACK):
                chosen = subsets[start : start + _SUBSET_STACK]
                sub = c[chosen[:, :, None], chosen[:, None, :]]
                variances = np.diagonal(sub, axis1=1, axis2=2)
                low = variances < self.ridge
                if low.any():  # ``_floored``: a variance below the ridge is raised to it
                    sub = sub.copy()
                    rows, cols = np.nonzero(low)
                    sub[rows, cols, cols] = self.ridge
                    variances = np.diagonal(sub, axis1=1, axis2=2)
                pivots = _stacked_pivots(sub)
                # ``_factor``: every variance and pivot positive, each pivot at least ridge times its variance
                regular = np.all(variances > 0, axis=1) & np.all(pivots > 0, axis=1)
                if self.ridge > 0:
                    regular &= ~np.any(pivots < self.ridge * variances, axis=1)
                with np.errstate(invalid="ignore", divide="ignore"):
                    log_det = np.where(regular, np.sum(np.log(np.where(regular[:, None], pivots, 1.0)), axis=1), np.nan)
                for row in np.flatnonzero(np.isnan(log_det)):  # singular within the ridge: on its own
                    log_det[row] = self.log_det(_principal(c, chosen[row]), "`X`")
                out[start : start + len(chosen)] = self._bits(log_det, s, n_eff)
            return out

        return entropies


# Principal submatrices eliminated together.
_SUBSET_STACK = 1 << 14


def _stacked_pivots(a: np.ndarray) -> np.ndarray:
    """The pivots of Gaussian elimination (the squared diagonal of the Cholesky factor: each
    column's variance given the columns before it) of a stack of symmetric (s, s) matrices,
    shape (m, s); one vectorised step per column, so small matrices cost no per-matrix call.
    A zero pivot leaves the later ones undefined (NaN or inf): the caller treats that matrix on
    its own."""
    a = np.array(a, dtype=np.float64)
    m, s, _ = a.shape
    pivots = np.empty((m, s))
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for j in range(s):
            pivots[:, j] = a[:, j, j]
            if j + 1 < s:
                column = a[:, j + 1 :, j] / a[:, j, j, None]
                a[:, j + 1 :, j + 1 :] -= column[:, :, None] * a[:, j, None, j + 1 :]
    return pivots


def _inverse(chol: Any) -> Any:
    """C^-1 = L^-T L^-1 from C's lower Cholesky factor L."""
    xp = _xp.namespace(chol)
    l_inv = _xp.solve_triangular(chol, xp.eye(chol.shape[0], dtype=chol.dtype, device=_xp.device(chol)))
    return l_inv.T @ l_inv
