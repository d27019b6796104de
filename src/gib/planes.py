"""IB and GIB points of a layer or a model, the GIB objective, and the ceilings of the IB plane
(SPEC 2). The phase rule read off their trajectories is in :mod:`gib.phases`; the references of
the GIB plane (C*, the null predictors) are in :mod:`gib.references`.

Ceilings of the IB plane (SPEC 2, phases; SPEC 3, binning)
----------------------------------------------------------
A plug-in estimate is an entropy of N code rows, so it can never exceed log2 N, and
``I(X;T) <= H(X)``, ``I(T;Y) <= H(Y)`` for the entropies of X and Y as the estimator codes them.
When every probe row of T is distinct (fine bins, wide layers, continuous activations) the
estimate sits exactly at ``I(X;T) = min(log2 N, H(X))`` and ``I(T;Y) = H(Y)`` whatever the
network does: the plane is *saturated* and carries no signal. ``ib_point`` compares each
estimate with these ceilings (``ib_ceilings``), flags and warns. KDE and GCMI estimate
differential quantities and can exceed the plug-in bounds (GCMI gives 30 bits for a 10-class Y
with well-separated classes); that is flagged as ``over_bound`` with a ``BoundWarning``.
``kde_upper`` groups by the distinct rows of its second argument, so the same bounds hold for it.
"""

from __future__ import annotations

import importlib
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ._compat import keyword_only
from ._validation import (as_device_samples, as_samples, check_same_length, one_of, positive_int, renamed,
                          seed_value, to_numpy)
from .estimators import KDEUpperEstimator, LeaveOneOut, available_estimators, get_estimator
from .estimators.kde import non_negative_float
from .estimators.plugin import FixedInputEstimator, PlugInEstimator, code_information, code_informations, row_codes
from .exceptions import BoundWarning, SaturationWarning, docs_link
from .measures import SYNERGY_KINDS, discrete_codes, pmi_weights, synergy_from


GIB_TARGETS = ("joint", "yhat", "y")

REMEDIES = (
    "fewer bins (`n_bins`), Saxe's fixed `bin_size`, `kde_upper` with a `noise_variance`, a "
    "noise-injected probe (Monitor `ib_noise`), or a bigger or lower-dimensional probe set "
    f"({docs_link('estimators', 'saturation-remedies')})"
)


@dataclass(frozen=True)
class IBPoint:
    """A standard information-plane point of one layer T, in bits, with its ceilings.

    ``complexity_ceiling`` is min(log2 N, H(X)) and ``prediction_ceiling`` H(Y) (infinite for a
    continuous Y under a non-plug-in estimator), both as ``ib_ceilings`` computes them.
    ``saturated``: an estimate is within the tolerance of its ceiling (the plane carries no
    signal there). ``over_bound``: an estimate exceeds its ceiling by more than the tolerance.
    """

    complexity: float  #: I(X;T)
    prediction: float  #: I(T;Y)
    complexity_ceiling: float = math.inf  #: min(log2 N, H(X))
    prediction_ceiling: float = math.inf  #: H(Y), inf for a continuous Y under kde/gcmi
    saturated: bool = False
    over_bound: bool = False
    #: the 95% bootstrap interval of each estimate (``bootstrap=`` replicates), NaN without one
    complexity_low: float = math.nan
    complexity_high: float = math.nan
    prediction_low: float = math.nan
    prediction_high: float = math.nan

    @classmethod
    def flagged(cls, complexity: float, prediction: float, complexity_ceiling: float, prediction_ceiling: float,
                tol: float) -> IBPoint:
        """The point with its flags: ``saturated`` when an estimate is within ``tol`` bits of its
        ceiling (or above it), ``over_bound`` when it exceeds its ceiling by more than ``tol``."""
        return cls(
            complexity=float(complexity),
            prediction=float(prediction),
            complexity_ceiling=complexity_ceiling,
            prediction_ceiling=prediction_ceiling,
            saturated=bool(complexity >= complexity_ceiling - tol or prediction >= prediction_ceiling - tol),
            over_bound=bool(complexity > complexity_ceiling + tol or prediction > prediction_ceiling + tol),
        )


@dataclass(frozen=True)
class GIBPoint:
    """A GIB information-plane point (SPEC 2), in bits.

    ``complexity`` is C = -S(X->Z) for ``kind="featurewise"`` and C_svw = sum_i I(X_i;Z) - I(X;Z)
    for ``kind="sum_vs_whole"``; ``prediction`` is P = I(Yhat;Y).
    """

    complexity: float
    prediction: float
    synergy: float
    joint: float  #: I(X;Z) under the reweighted distribution
    single: np.ndarray = field(repr=False)  #: I(X_i;Z)
    complement: np.ndarray = field(repr=False)  #: I(X_-i;Z)
    kind: str = "featurewise"
    target: str = "joint"
    #: the 95% bootstrap interval of each estimate (``bootstrap=`` replicates), NaN without one
    complexity_low: float = math.nan
    complexity_high: float = math.nan
    prediction_low: float = math.nan
    prediction_high: float = math.nan

    @classmethod
    def of(cls, pieces: LeaveOneOut, prediction: float, kind: str = "featurewise",
           target: str = "joint") -> GIBPoint:
        """The point of the leave-one-out ``pieces`` of I(.;Z) under the PMI weights and of
        P = I(Yhat;Y): the synergy of ``kind`` and C = -S (``gib_point``'s last step)."""
        synergy = synergy_from(pieces, kind=kind)
        return cls(complexity=-synergy, prediction=float(prediction), synergy=synergy, joint=float(pieces.joint),
                   single=pieces.single, complement=pieces.complement, kind=kind, target=target)

    def objective(self, beta: float) -> float:
        """GIB_beta = P - beta * C (maximised)."""
        return self.prediction - beta * self.complexity


def gib_target(yhat: Any, y: Any, target: str = "joint", n_bins: int = 30) -> np.ndarray:
    """The variable Z: (Yhat, Y) for ``"joint"``, or Yhat or Y alone, as integer codes."""
    one_of(target, "target", GIB_TARGETS)
    a, b = discrete_codes(yhat, "yhat", n_bins), discrete_codes(y, "y", n_bins)
    check_same_length(yhat=a, y=b)
    return {"joint": np.column_stack([a, b]), "yhat": a, "y": b}[target]


def weighting_estimator(estimator: Any, options: dict, resample_hint: bool = False) -> Any:
    """``get_estimator(estimator, **options)``, refused up front if it takes no sample weights:
    the GIB plane weights the samples by their PMI (SPEC 2)."""
    est = get_estimator(estimator, **options)
    if not est.supports_weights:
        raise ValueError(
            f"`estimator` {est.name!r} takes no sample weights, and the GIB plane weights the samples by "
            f"their PMI; use one that does: {', '.join(map(repr, available_estimators(weights=True)))}"
            + (" (or resample=True, which draws the samples by their weights instead)." if resample_hint else ".")
        )
    return est


@keyword_only
def gib_point(
    X: Any,
    yhat: Any,
    y: Any,
    *,
    estimator: Any = "binning",
    kind: str = "featurewise",
    target: str = "joint",
    resample: bool = False,
    seed: int = 0,
    output_bins: int = 30,
    bootstrap: int = 0,
    **options: Any,
) -> GIBPoint:
    """The GIB point of a model whose outputs on inputs ``X`` are ``yhat`` for targets ``y``.

    Parameters
    ----------
    X : array (N, n)
        The input features whose synergy is measured (raw inputs, or e.g. Kernel PCA of them).
    yhat, y : array (N,) or (N, k)
        Predictions and targets: class labels, or real values that are binned in
        ``output_bins`` equal-width bins (regression, SPEC 2).
    estimator, options
        Estimator of I(X_S;Z) by name and its options (``n_bins=...``): one that takes sample
        weights (:func:`gib.estimators.available_estimators` with ``weights=True``; not ``ksg``),
        unless ``resample=True``.
    kind : {"featurewise", "sum_vs_whole"}
    target : {"joint", "yhat", "y"}
        Z = (Yhat, Y) (default), or Yhat or Y alone.
    resample : bool
        False (default): exact weighted estimates under the PMI-reweighted distribution.
        True: draw N samples with probability proportional to the PMI weights (seeded).
    seed : int
        Seed of the resampling and of the bootstrap replicates.
    bootstrap : int
        Bootstrap replicates of the point's 95% interval (``complexity_low``, ...); 0: none
        (see :class:`GIBPlane`).

    Returns
    -------
    GIBPoint
        ``prediction`` = I(Yhat;Y) is a plug-in estimate of the (binned) outputs whatever the
        estimator, since Yhat and Y are discrete.
    """
    one_of(kind, "kind", SYNERGY_KINDS)
    est = get_estimator(estimator, **options) if resample else weighting_estimator(estimator, options, True)
    seed, output_bins = seed_value(seed), positive_int(output_bins, "output_bins")
    plane = GIBPlane(X, y, est, target=target, output_bins=output_bins, bootstrap=bootstrap, seed=seed)
    try:
        return plane.point(yhat, kind, resample=resample, seed=seed)
    except (TypeError, ValueError) as error:  # the estimator's `v` is Z, made of the caller's yhat and y
        raise renamed(error, {"v": {"joint": "yhat, y", "yhat": "yhat", "y": "y"}[target]}) from None


#: the percentiles of the replicates that bound a bootstrapped point's 95% interval
INTERVAL = (2.5, 97.5)


#: the fewest replicates that give a 95% interval (2.5% of 20 is half a replicate)
MIN_REPLICATES = 20


def check_bootstrap(bootstrap: Any, name: str = "bootstrap") -> int:
    """``bootstrap`` as a number of replicates: 0 (none) or an integer of at least
    ``MIN_REPLICATES``; anything else is refused with an error naming ``name``."""
    if isinstance(bootstrap, (int, np.integer)) and not isinstance(bootstrap, bool) and bootstrap == 0:
        return 0
    replicates = positive_int(bootstrap, name)
    if replicates < MIN_REPLICATES:
        raise ValueError(f"`{name}` = {replicates} replicates cannot give a 95% interval; use at least "
                         f"{MIN_REPLICATES} (200 is a good default), or 0 for none.")
    return replicates


def bootstrap_counts(n: int, replicates: int, seed: int = 0) -> np.ndarray:
    """The bootstrap replicates of a probe set of ``n`` samples as multinomial counts, shape
    (replicates, n): replicate r holds sample k ``counts[r, k]`` times. A plug-in estimate takes
    them as sample weights exactly, so a replicate is a reweighted estimate of the same data
    rather than a copy with repeated rows (which would break nearest-neighbour and
    leave-one-out estimators). Drawn once per plane from ``seed``: every record step of a run
    uses the same replicates, so intervals along a trajectory are comparable, and so do the
    references of the plane (:meth:`gib.references.NullReference.replicates_at`), so differences
    from them are paired (:func:`difference_interval`)."""
    replicates = positive_int(replicates, "bootstrap")
    check_bootstrap(replicates)
    return np.random.default_rng(seed_value(seed)).multinomial(n, np.full(n, 1.0 / n), size=replicates).astype(np.float64)


def basic_interval(values: Any, estimate: float) -> tuple[float, float]:
    """The basic (pivotal) bootstrap interval ``(2 e - q_97.5, 2 e - q_2.5)`` of an estimate ``e``
    from its replicates' percentiles (:data:`INTERVAL`).

    Plug-in informations are biased, and a replicate (which repeats some samples and drops
    others) has more bias than the estimate; the basic interval reads the bias off the replicates
    and centres on the estimate, where the percentile interval would sit beside it (on a
    saturated layer, entirely below it).

    Parameters
    ----------
    values : array (B,)
        The estimate on each bootstrap replicate.
    estimate : float
        The estimate on the probe set itself.

    Returns
    -------
    (low, high) : tuple of float
    """
    low, high = np.percentile(np.asarray(values, dtype=np.float64), INTERVAL)
    return float(2 * estimate - high), float(2 * estimate - low)


def difference_interval(replicates: Any, other_replicates: Any, estimate: float,
                        other_estimate: float) -> tuple[float, float]:
    """The 95% basic bootstrap interval of ``estimate - other_estimate`` from paired replicates.

    Paired: replicate r of both comes from the same bootstrap counts (the same resampled probe
    set), as the GIB point of a network, its null and C* do in a
    :class:`gib.recorders.GIBRecorder`. The difference's interval is then narrower than the two
    intervals side by side whenever the two estimates move together from one replicate to the
    next (they share the probe set's features and targets, and much of the estimator's bias).

    Parameters
    ----------
    replicates, other_replicates : array (B,)
        The two estimates on each of the same B replicates.
    estimate, other_estimate : float
        The two estimates on the probe set itself.

    Returns
    -------
    (low, high) : tuple of float
        :func:`basic_interval` of the replicates' differences around ``estimate - other_estimate``.
    """
    a = np.asarray(replicates, dtype=np.float64)
    b = np.asarray(other_replicates, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"`replicates` {a.shape} and `other_replicates` {b.shape} must be 1-D and of the same "
                         "length: one value per bootstrap replicate, paired (the same counts).")
    return basic_interval(a - b, float(estimate) - float(other_estimate))


def _replicate_entropies(codes: np.ndarray, counts: np.ndarray, miller_madow: bool) -> np.ndarray:
    """Plug-in entropies in bits of dense ``codes`` (N,) under each replicate's counts (B, N),
    all in one bincount."""
    B, n = counts.shape
    k = int(codes.max()) + 1
    table = np.bincount((codes[None, :] + k * np.arange(B)[:, None]).ravel(), weights=counts.ravel(),
                        minlength=B * k).reshape(B, k)
    p = table / n
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.sum(np.where(p > 0, p * np.log(p), 0.0), axis=1)
    if miller_madow:
        h = h + (np.count_nonzero(table, axis=1) - 1) / (2.0 * n)
    return h / math.log(2)


def _replicate_informations(a: np.ndarray, others: list[np.ndarray], counts: np.ndarray,
                            miller_madow: bool) -> list[np.ndarray]:
    """The plug-in I(A;B) of dense codes under each replicate's counts, for each B of ``others``."""
    h_a = _replicate_entropies(a, counts, miller_madow)
    out = []
    for b in others:
        joint = a.astype(np.int64) * (int(b.max()) + 1) + b
        out.append(h_a + _replicate_entropies(b, counts, miller_madow)
                   - _replicate_entropies(np.unique(joint, return_inverse=True)[1].ravel(), counts, miller_madow))
    return out


def _weighted(estimator: Any) -> bool:
    return getattr(estimator, "supports_weights", True)


#: entries of one block of the replicates' tables (replicates x cells) and indicators (partitions x samples)
_REPLICATE_CELLS = 1 << 22


def _replicate_entropies_of(codes: np.ndarray, sizes: np.ndarray, weights: np.ndarray,
                            w_log_w: np.ndarray, miller_madow: bool) -> np.ndarray:
    """Plug-in entropies in bits of m partitions of the samples (row j of ``codes``, (m, N),
    holds codes below ``sizes[j]``) under each of B sample weightings ``weights`` (B, N), each
    summing to 1: an array (B, m).

    The cells a sample falls in do not depend on the weights. A cell of one sample contributes
    w log w of that sample, so those terms of every partition are one product of (w log w) with
    the partitions' singleton indicators; the other cells' B tables are one sparse product of
    the weights with their indicator, in blocks of partitions whose tables (B x cells) and
    sample indicators (partitions x N) hold at most ``_REPLICATE_CELLS`` entries each.
    ``w_log_w``: weights * log(weights), 0 where a weight is 0."""
    from scipy import sparse  # here: `import gib` stays light

    m, N = codes.shape
    B = len(weights)
    positive = (weights > 0).astype(np.float64) if miller_madow else None
    n_eff = positive.sum(axis=1) if miller_madow else None  # samples of positive weight (Miller-Madow)
    out = np.empty((B, m))
    start = 0
    while start < m:
        stop, total = start + 1, int(sizes[start])
        while stop < m and (total + int(sizes[stop])) * B <= _REPLICATE_CELLS \
                and (stop - start + 1) * N <= _REPLICATE_CELLS:
            total += int(sizes[stop])
            stop += 1
        rows = stop - start
        offsets = np.concatenate(([0], np.cumsum(sizes[start:stop]))).astype(np.int64)
        cells = codes[start:stop].astype(np.int64) + offsets[:-1, None]  # (rows, N)
        alone = np.bincount(cells.ravel(), minlength=total)[cells] == 1  # (rows, N): a cell of one sample
        h = -(w_log_w @ alone.T)
        occupied = positive @ alone.T if miller_madow else None
        shared = ~alone
        if shared.any():
            row, sample = np.nonzero(shared)
            ids, cell = np.unique(cells[row, sample], return_inverse=True)
            indicator = sparse.csr_matrix((np.ones(len(cell)), (cell.ravel(), sample)), shape=(len(ids), N))
            table = np.asarray(indicator @ weights.T).T  # (B, shared cells): their weighted histograms
            with np.errstate(divide="ignore", invalid="ignore"):
                plogp = np.where(table > 0, table * np.log(table), 0.0)
            owner = np.searchsorted(offsets, ids, side="right") - 1  # each shared cell's partition
            membership = sparse.csr_matrix((np.ones(len(ids)), (owner, np.arange(len(ids)))), shape=(rows, len(ids)))
            h -= np.asarray(membership @ plogp.T).T
            if miller_madow:
                occupied += np.asarray(membership @ (table > 0).T.astype(np.float64)).T
        if miller_madow:
            h += (occupied - 1) / (2.0 * n_eff[:, None])
        out[:, start:stop] = h / math.log(2)
        start = stop
    return out


def _replicate_pieces(subsets: Any, v: np.ndarray, weights: np.ndarray, miller_madow: bool) -> list[LeaveOneOut]:
    """``subsets.leave_one_out(v, w, miller_madow)`` for every row ``w`` of ``weights`` (B, N),
    batched: the partitions of X_S and of (X_S, V) are the same for every replicate, so each
    entropy is one sparse product for all of them (:func:`_replicate_entropies_of`). The same
    numbers as the loop up to rounding (tests check it); subsets whose rows are all distinct
    have I(X_S;V) = H(V) under any weights, as there."""
    v = np.asarray(v, dtype=np.int64)
    B, N = weights.shape
    n = subsets.n_features
    with np.errstate(divide="ignore", invalid="ignore"):
        w_log_w = np.where(weights > 0, weights * np.log(weights), 0.0)
    k_v = int(v.max()) + 1

    def with_v(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        joint = [np.unique(row.astype(np.int64) * k_v + v, return_inverse=True)[1].ravel() for row in codes]
        return np.array(joint).reshape(len(codes), N), np.array([int(c.max()) + 1 for c in joint], dtype=np.int64)

    h_v = _replicate_entropies_of(v[None, :], np.array([k_v]), weights, w_log_w, miller_madow)[:, 0]
    mi = np.repeat(h_v[:, None], n + 1, axis=1)
    if len(subsets.kept):
        hx = _replicate_entropies_of(subsets.codes, subsets.sizes, weights, w_log_w, miller_madow)
        hxv = _replicate_entropies_of(*with_v(subsets.codes), weights, w_log_w, miller_madow)
        mi[:, subsets.kept] = hx + h_v[:, None] - hxv
    hx = _replicate_entropies_of(subsets.single, subsets.single_sizes, weights, w_log_w, miller_madow)
    hxv = _replicate_entropies_of(*with_v(subsets.single), weights, w_log_w, miller_madow)
    single = hx + h_v[:, None] - hxv
    return [LeaveOneOut(float(mi[r, 0]), single[r], mi[r, 1:]) for r in range(B)]


class GIBPlane:
    """The GIB plane of one fixed probe set: features ``X`` and targets ``y`` under one estimator,
    with what the probe set fixes computed once, so that :meth:`GIBPlane.point` costs only what depends on
    the predictions. :func:`gib_point` is ``GIBPlane(X, y, ...).point(yhat, kind)``; the Monitor
    keeps one plane per feature set and estimator (one implementation of the plane).

    A plug-in estimator (``binning``, ``discrete``) is bound to the features
    (:class:`gib.estimators.plugin.FixedInputEstimator`: the partitions of X, every X_i and every
    X_-i, once) and Y's codes are kept: a point then codes Yhat and Z, computes the PMI weights
    and combines Z's codes with the partitions, the same numbers as the estimator's own
    ``leave_one_out`` (tests check it). Other estimators run their ``leave_one_out`` at each point.

    Parameters
    ----------
    X : array (N, n)
        The input features whose synergy is measured.
    y : array (N,) or (N, k)
        The targets (real values are binned in ``output_bins`` equal-width bins).
    estimator, options
        The estimator by name (or instance, e.g. a ``FixedInputEstimator`` shared with a null
        reference) and its options.
    target : {"joint", "yhat", "y"}
        Z = (Yhat, Y) (default), or Yhat or Y alone.
    output_bins : int
        Bins of real-valued predictions and targets.
    bootstrap : int
        Replicates of the 95% interval of each point (0: none); see :func:`bootstrap_counts`.
        Each replicate re-estimates the PMI weights, P and the leave-one-out under its counts.
        A bound plug-in estimator does all the replicates at once (the partitions of X_S and
        (X_S, Z) are the same for every replicate, only the weights change), several times
        faster than one leave-one-out per replicate; another estimator costs about
        ``bootstrap + 1`` points.
    seed : int
        Seed of the replicates.
    """

    def __init__(self, X: Any, y: Any, estimator: Any = "binning", *, target: str = "joint",
                 output_bins: int = 30, bootstrap: int = 0, seed: int = 0, **options: Any):
        self.target = one_of(target, "target", GIB_TARGETS)
        self.output_bins = positive_int(output_bins, "output_bins")
        self.X = as_samples(X, "X")
        self.y_codes = discrete_codes(y, "y", self.output_bins)
        check_same_length(X=self.X, y=self.y_codes)
        self._y_size = int(self.y_codes.max()) + 1
        self.estimator = get_estimator(estimator, **options)
        self.bound: FixedInputEstimator | None = None  #: the plug-in estimator bound to the features
        if isinstance(self.estimator, FixedInputEstimator):
            if self.estimator.X is self.X or (self.estimator.X.shape == self.X.shape
                                               and np.array_equal(self.estimator.X, self.X)):
                self.bound = self.estimator
        elif isinstance(self.estimator, PlugInEstimator) and self.X.shape[1] >= 2:
            self.bound = FixedInputEstimator(self.estimator, self.X)
        self.counts = None if not bootstrap else bootstrap_counts(len(self.X), bootstrap, seed)

    def _z(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Z from the codes of Yhat and Y: for the bound plug-in estimator one dense code per
        sample (its partitions need no more; the column sizes spare row_codes a pass for the
        maxima), for any other estimator the columns (Yhat, Y) as :func:`gib_target` gives them."""
        if self.target != "joint":
            return a if self.target == "yhat" else b
        if self.bound is None:
            return np.column_stack([a, b])
        return row_codes(np.column_stack([a, b]), sizes=(int(a.max()) + 1, self._y_size))

    def _codes(self, yhat: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The codes of Yhat (checked against the probe set) and of Y, and Z."""
        a = discrete_codes(yhat, "yhat", self.output_bins)
        check_same_length(X=self.X, yhat=a)
        return a, self.y_codes, self._z(a, self.y_codes)

    def pieces(self, yhat: Any, resample: bool = False, seed: int = 0) -> tuple[LeaveOneOut, float]:
        """The leave-one-out pieces of I(.;Z) under the PMI weights, and P = I(Yhat;Y) (SPEC 2)."""
        a, b, z = self._codes(yhat)
        prediction = code_information(a, b)  # both dense codes: the plug-in I(Yhat;Y)
        weights = pmi_weights(a, b)
        if resample:
            idx = np.random.default_rng(seed_value(seed)).choice(len(self.X), size=len(self.X), p=weights)
            return self.estimator.leave_one_out(self.X[idx], z[idx], None), prediction
        if self.bound is not None:
            return self.bound.subsets.leave_one_out(z, weights, self.bound.bias == "miller-madow"), prediction
        return self.estimator.leave_one_out(self.X, z, weights), prediction

    def point(self, yhat: Any, kind: str = "featurewise", resample: bool = False, seed: int = 0) -> GIBPoint:
        """The GIB point of the predictions ``yhat`` (see :func:`gib_point`), with its interval
        when the plane bootstraps."""
        one_of(kind, "kind", SYNERGY_KINDS)
        pieces, prediction = self.pieces(yhat, resample, seed)
        point = GIBPoint.of(pieces, prediction, kind, self.target)
        if self.counts is None:
            return point
        return replace(point, **self.intervals(self.replicates(yhat), kind, point.complexity, point.prediction))

    def replicates(self, yhat: Any, counts: np.ndarray | None = None) -> list[tuple[LeaveOneOut, float]]:
        """The leave-one-out pieces and P of every bootstrap replicate.

        Parameters
        ----------
        yhat : array (N,) or (N, k)
            The predictions, as for :meth:`point`.
        counts : array (B, N), optional
            The replicates' counts (:func:`bootstrap_counts`); default: the plane's own
            (``bootstrap`` > 0). Another plane's counts pair its replicates with this one's
            (what :class:`gib.references.NullReference` does for the null and C*).

        Returns
        -------
        list of (LeaveOneOut, float)
            Per replicate, the pieces of I(.;Z) under its reweighted PMI weights and its P.
        """
        if counts is None:
            counts = self.counts
            if counts is None:
                raise ValueError("this plane was built with bootstrap=0; pass bootstrap=200 for intervals.")
        else:
            counts = check_counts(counts, len(self.X))
        a, b, z = self._codes(yhat)
        kb = self._y_size
        cell = a.astype(np.int64) * kb + b
        predictions = [float(p) for p in _replicate_informations(a, [b], counts, False)[0]]
        weights = np.empty(counts.shape)
        for w, replicate in zip(weights, counts):
            # the PMI weights of this replicate's joint histogram of (Yhat, Y), times its counts
            joint = np.bincount(cell, weights=replicate, minlength=int(cell.max()) + 1)
            pa = np.bincount(a, weights=replicate)
            pb = np.bincount(b, weights=replicate, minlength=kb)
            with np.errstate(divide="ignore", invalid="ignore"):
                w[:] = replicate * joint[cell] * replicate.sum() / (pa[a] * pb[b])
            w[:] = np.where(replicate > 0, w, 0.0)
            w /= w.sum()
        if self.bound is not None:
            pieces = _replicate_pieces(self.bound.subsets, z, weights, self.bound.bias == "miller-madow")
        elif _weighted(self.estimator):
            pieces = [self.estimator.leave_one_out(self.X, z, w) for w in weights]
        else:  # an estimator without weights: the replicate as a copy of the drawn rows
            pieces = []
            for replicate in counts:
                idx = np.repeat(np.arange(len(replicate)), replicate.astype(np.int64))
                pieces.append(self.estimator.leave_one_out(self.X[idx], z[idx], None))
        return list(zip(pieces, predictions))

    @staticmethod
    def replicate_values(replicates: list[tuple[LeaveOneOut, float]], kind: str) -> tuple[np.ndarray, np.ndarray]:
        """C of ``kind`` and P on each replicate of :meth:`replicates`: two arrays (B,), in bits."""
        one_of(kind, "kind", SYNERGY_KINDS)
        complexity = np.array([-synergy_from(pieces, kind=kind) for pieces, _ in replicates], dtype=np.float64)
        return complexity, np.array([p for _, p in replicates], dtype=np.float64)

    @staticmethod
    def intervals(replicates: list[tuple[LeaveOneOut, float]], kind: str, complexity: float,
                  prediction: float) -> dict[str, float]:
        """``complexity_low``/``_high`` and ``prediction_low``/``_high``: the 95% intervals of the
        point (``complexity``, ``prediction``) from its replicates (:func:`basic_interval`)."""
        complexities, predictions = GIBPlane.replicate_values(replicates, kind)
        c_low, c_high = basic_interval(complexities, complexity)
        p_low, p_high = basic_interval(predictions, prediction)
        return dict(complexity_low=c_low, complexity_high=c_high, prediction_low=p_low, prediction_high=p_high)


def check_counts(counts: Any, n: int, name: str = "counts") -> np.ndarray:
    """Bootstrap counts checked against a probe set of ``n`` samples: a float array (B, n) of
    non-negative whole numbers, each row summing to ``n`` (:func:`bootstrap_counts`)."""
    values = np.asarray(counts)
    if values.ndim != 2 or values.shape[1] != n or values.shape[0] < 1 or values.dtype.kind not in "biuf":
        raise ValueError(f"`{name}` must be bootstrap counts of shape (replicates, {n}) for this probe set of {n} "
                         f"samples (gib.planes.bootstrap_counts({n}, 200, seed)), got shape {values.shape}, "
                         f"dtype {values.dtype}.")
    values = values.astype(np.float64)
    if not (np.all(np.isfinite(values)) and np.all(values >= 0) and np.all(values == np.round(values))
            and np.all(values.sum(axis=1) == n)):
        raise ValueError(f"`{name}` must hold non-negative whole counts, each replicate (row) summing to the "
                         f"{n} samples, as gib.planes.bootstrap_counts({n}, 200, seed) draws them.")
    return values


def _is_discrete_target(a: np.ndarray) -> bool:
    """Labels: integer, bool or string columns, or floats that are all whole numbers."""
    return a.dtype.kind in "biuUS" or bool(np.all(a == np.round(a)))


def _distinct_entropy(a: np.ndarray) -> float:
    """Plug-in entropy (bits) of the distinct rows of ``a``: one row-code pass."""
    return get_estimator("discrete").entropy(a)


def _ceiling(est: Any, b: np.ndarray, continuous_is_unbounded: bool) -> float:
    """The largest value of I(.;B) that ``est`` can honestly report, in bits.

    Plug-in estimators: H(B) as the estimator codes it (binned floats, with its bias correction),
    which is at most log2 N. ``kde_upper`` groups the samples by the distinct rows of B, whatever
    its dtype. ``kde`` and ``gcmi``: H of B's distinct rows, the plug-in bound, for X and for a
    discrete Y; a continuous Y has none (inf) when ``continuous_is_unbounded``.
    """
    if isinstance(est, PlugInEstimator):
        h = est.entropy(b)
    elif isinstance(est, KDEUpperEstimator) or not continuous_is_unbounded or _is_discrete_target(b):
        h = _distinct_entropy(b)
    else:
        return math.inf
    return h + 0.0  # a constant B's -0.0 reads as 0


@keyword_only
def ib_ceilings(X: Any, y: Any, *, estimator: Any = "binning", **options: Any) -> tuple[float, float]:
    """The ceilings of the IB plane for a fixed probe set: (min(log2 N, H(X)), H(Y)) in bits.

    Compute them once per probe set and estimator and pass them to ``ib_point(..., ceilings=)``
    (the Monitor does), so H(X) and H(Y) are not recomputed at every record step.

    Parameters
    ----------
    X : array (N, n)
        The X of I(X;T).
    y : array (N,) or (N, k)
        The targets.
    estimator, options
        The IB estimator by name (or instance) and its options.

    Returns
    -------
    (complexity_ceiling, prediction_ceiling) : tuple of float
        H(X) and H(Y) of the rows as the estimator codes them for ``binning`` and ``discrete``
        (binned floats; with ``bias="miller-madow"`` the corrected entropies), of the distinct
        rows otherwise; a plug-in entropy of N rows is at most log2 N, so the first is
        min(log2 N, H(X)). H(Y) is inf for a continuous Y (floats that are not whole numbers)
        under ``kde`` and ``gcmi``, which estimate a differential quantity there.

    Examples
    --------
    >>> X = np.repeat(np.arange(8), 64)  # 8 equally likely inputs, 512 samples
    >>> ib_ceilings(X, X % 2, estimator="discrete")
    (3.0, 1.0)
    """
    est = get_estimator(estimator, **options)
    X, y = as_samples(X, "X"), as_samples(y, "y")
    n = check_same_length(X=X, y=y)
    # a bias-corrected H(X) (Miller-Madow adds (K - 1) / 2N) can pass log2 N; no I(X;T) can
    complexity = min(math.log2(n), _ceiling(est, X, continuous_is_unbounded=False))
    return complexity, _ceiling(est, y, continuous_is_unbounded=True)


def _check_ceilings(ceilings: Any) -> tuple[float, float]:
    try:
        complexity, prediction = (float(c) for c in ceilings)
    except (TypeError, ValueError):
        raise ValueError(
            f"`ceilings` must be a pair (complexity_ceiling, prediction_ceiling) of numbers, as "
            f"`ib_ceilings(X, y, estimator=...)` returns, got {ceilings!r}."
        ) from None
    if not (complexity >= 0 and prediction >= 0 and np.isfinite(complexity)):
        raise ValueError(
            f"`ceilings` must be >= 0 (the first finite; the second may be inf), got {ceilings!r}."
        )
    return complexity, prediction


def _estimate(est: Any, T: np.ndarray, b: np.ndarray, b_name: str) -> float:
    try:
        return est.mutual_information(T, b)
    except (TypeError, ValueError) as error:
        raise renamed(error, {"a": "T", "b": b_name}) from None


@keyword_only
def ib_point(
    T: Any,
    X: Any,
    y: Any,
    *,
    estimator: Any = "binning",
    saturation_tol: float | None = None,
    warn: bool = True,
    ceilings: tuple[float, float] | None = None,
    bootstrap: int = 0,
    seed: int = 0,
    **options: Any,
) -> IBPoint:
    """The standard IB point of a layer: (I(X;T), I(T;Y)) in bits, checked against its ceilings.

    T is passed first to the estimator, which matters for ``kde_upper`` (noise is added to T).

    Parameters
    ----------
    T : array (N, d)
        The layer's activations (numbers).
    X : array (N, n)
        The inputs of I(X;T).
    y : array (N,) or (N, k)
        The targets of I(T;Y).
    estimator, options
        The estimator by name (or instance) and its options (``n_bins=...``).
    saturation_tol : float, optional
        Tolerance in bits of the ceiling comparisons. Default (ours): log2(N) / N, the share
        of one sample in an entropy of N distinct samples, so a layer that merges a handful of
        the N probe rows still counts as saturated.
    warn : bool, default True
        Warn with ``SaturationWarning`` when the point is saturated and with ``BoundWarning``
        when it is over the bound (see :func:`ib_point_warnings`).
    ceilings : (float, float), optional
        ``ib_ceilings(X, y, estimator, **options)``, computed once for a fixed probe set;
        computed here when not given.
    bootstrap : int
        Bootstrap replicates of the point's 95% interval (``complexity_low``, ...); 0: none
        (see :class:`IBPlane`).
    seed : int
        Seed of the replicates.

    Returns
    -------
    IBPoint
        ``saturated`` when I(X;T) >= complexity_ceiling - tol or I(T;Y) >= prediction_ceiling - tol;
        ``over_bound`` when I(X;T) > complexity_ceiling + tol or I(T;Y) > prediction_ceiling + tol
        (only ``kde`` and ``gcmi`` can exceed them). An over-bound point is saturated too.
        A constant X or Y has a ceiling of 0 and so is saturated: that axis carries no signal.
    """
    plane = IBPlane(X, y, estimator, saturation_tol=saturation_tol, ceilings=ceilings, bootstrap=bootstrap,
                    seed=seed, **options)
    point = plane.point(T)
    if warn:
        for category, message in ib_point_warnings(point, plane.tolerance):
            warnings.warn(message, category, stacklevel=2)
    return point


class IBPlane:
    """The IB plane of one fixed probe set (X, y) under one estimator, with what the probe set
    fixes computed once: the ceilings (:func:`ib_ceilings`) and, for a plug-in estimator, the
    dense codes of X and Y and their counts. :func:`ib_point` is ``IBPlane(X, y, ...).point(T)``;
    the Monitor keeps one plane per estimator for the whole run (one implementation of the plane).

    The plug-in fast path (SPEC 3): a plug-in estimate depends only on the partition of the
    samples into distinct code rows, so T is binned once and reduced to one code per sample, and
    I(X;T), I(T;Y) are plug-in informations between that code and X's and Y's codes: one pass over
    a wide layer instead of six, the same numbers as the estimator's ``mutual_information``
    (tests check it). Other estimators estimate both informations at each point.

    Parameters
    ----------
    X : array (N, n)
        The inputs of I(X;T).
    y : array (N,) or (N, k)
        The targets of I(T;Y).
    estimator, options
        The estimator by name (or instance) and its options.
    saturation_tol : float, optional
        Tolerance in bits of the ceiling comparisons (default log2(N) / N, see :func:`ib_point`).
    ceilings : (float, float), optional
        ``ib_ceilings(X, y, estimator, **options)`` when already known.
    bootstrap : int
        Replicates of the 95% interval of each point (0: none); see :func:`bootstrap_counts`.
        A plug-in estimator takes the replicates' counts as weights on the codes (cheap);
        others re-estimate with weights, or on the drawn rows when they take none.
    seed : int
        Seed of the replicates.
    """

    def __init__(self, X: Any, y: Any, estimator: Any = "binning", *, saturation_tol: float | None = None,
                 ceilings: tuple[float, float] | None = None, bootstrap: int = 0, seed: int = 0, **options: Any):
        self.estimator = est = get_estimator(estimator, **options)
        self.X, self.y = as_samples(X, "X"), as_samples(y, "y")
        n = check_same_length(X=self.X, y=self.y)
        self.tolerance = (math.log2(n) / n if saturation_tol is None
                          else non_negative_float(saturation_tol, "saturation_tol"))
        self.ceilings = (ib_ceilings(self.X, self.y, estimator=est) if ceilings is None
                         else _check_ceilings(ceilings))
        self.plugin = isinstance(est, PlugInEstimator)
        if self.plugin:
            self._codes = [row_codes(est.compact_codes(self.X)), row_codes(est.compact_codes(self.y))]
            self._counts = [np.bincount(codes) for codes in self._codes]
        self.counts = None if not bootstrap else bootstrap_counts(n, bootstrap, seed)

    def point(self, T: Any, t_codes: np.ndarray | None = None) -> IBPoint:
        """The IB point of one layer's T (an array, or a tensor for an estimator with a
        ``device``), flagged against the ceilings. ``t_codes``, optional: T's row codes (or row
        keys, ``row_codes(..., dense=False)``) under a plug-in estimator when already known
        (:meth:`points` bins narrow layers side by side)."""
        est = self.estimator
        if t_codes is None and not (self.plugin and est.device is not None):
            T = as_samples(T, "T")
            if T.dtype.kind not in "biuf":
                raise TypeError(
                    f"`T` has dtype {T.dtype}; T is a layer's activations: pass numbers (labels belong in `y`)."
                )
            check_same_length(T=T, X=self.X)
        if not self.plugin:
            complexity, prediction = _estimate(est, T, self.X, "X"), _estimate(est, T, self.y, "y")
            point = IBPoint.flagged(complexity, prediction, *self.ceilings, self.tolerance)
            return point if self.counts is None else replace(point, **self._intervals(point, T))
        if t_codes is None and est.device is None:
            t_codes = _distinct_rows(est, T)
            if t_codes is None:
                if T.shape[1] < _NARROW:
                    # column extremes of a narrow C-ordered T are slow (NumPy's inner loop runs
                    # along its few columns); on a column-major copy they are ~15x faster
                    T = np.asfortranarray(T)
                t_codes = est.compact_row_codes(T, dense=False)  # row keys: counted by sorting
        elif t_codes is None:
            T = as_device_samples(T, "T", est.device)
            check_same_length(T=T, X=self.X)
            t_codes = to_numpy(row_codes(est.codes(T)))
        complexity, prediction = code_informations(t_codes, self._codes, est.bias == "miller-madow", self._counts)
        point = IBPoint.flagged(complexity, prediction, *self.ceilings, self.tolerance)
        return point if self.counts is None else replace(point, **self._intervals(point, None, t_codes))

    def _intervals(self, point: IBPoint, T: Any, t_codes: np.ndarray | None = None) -> dict[str, float]:
        """The 95% bootstrap intervals of I(X;T) and I(T;Y)."""
        if self.plugin:
            dense = np.unique(t_codes, return_inverse=True)[1].ravel()  # row keys ranked
            complexity, prediction = _replicate_informations(dense, self._codes, self.counts,
                                                             self.estimator.bias == "miller-madow")
        else:
            T = to_numpy(T)
            complexity, prediction = [], []
            for counts in self.counts:
                if _weighted(self.estimator):
                    w = counts / counts.sum()
                    complexity.append(self.estimator.mutual_information(T, self.X, w))
                    prediction.append(self.estimator.mutual_information(T, self.y, w))
                else:
                    idx = np.repeat(np.arange(len(counts)), counts.astype(np.int64))
                    complexity.append(self.estimator.mutual_information(T[idx], self.X[idx]))
                    prediction.append(self.estimator.mutual_information(T[idx], self.y[idx]))
        c_low, c_high = basic_interval(complexity, point.complexity)
        p_low, p_high = basic_interval(prediction, point.prediction)
        return dict(complexity_low=c_low, complexity_high=c_high, prediction_low=p_low, prediction_high=p_high)

    def points(self, layers: Mapping[str, Any]) -> dict[str, IBPoint]:
        """The IB point of every layer of ``layers`` ({name: T}); a plug-in estimator on the host
        bins the narrow float32 layers side by side in one pass (:func:`_narrow_codes`)."""
        coded = _narrow_codes(self.estimator, layers) if self.plugin and self.estimator.device is None else {}
        return {name: self.point(T, coded.get(name)) for name, T in layers.items()}


_NARROW = 64  #: layers narrower than this are binned from a column-major copy
_SAMPLED_BLOCKS, _BLOCK_COLUMNS = 16, 32  #: the column sample of a wide T: 16 runs of 32 columns


def _distinct_rows(estimator: PlugInEstimator, T: np.ndarray) -> np.ndarray | None:
    """Dense codes of the rows of a wide T when a sample of its columns already tells every row
    apart, else None.

    Exact: the plug-in codes are a function of each column alone (binning over the column's own
    range, or its own values), so rows that differ on some columns' codes differ on all of T's,
    and T's partition is then the finest one, whatever the other columns hold. A wide layer
    of a network usually tells its N probe rows apart (the IB plane saturates there): this costs a
    sample of 512 contiguous-run columns instead of binning and sorting every column."""
    N, d = T.shape
    if d < 4 * _SAMPLED_BLOCKS * _BLOCK_COLUMNS:
        return None
    starts = np.linspace(0, d - _BLOCK_COLUMNS, _SAMPLED_BLOCKS).astype(np.int64)
    sample = np.concatenate([T[:, start : start + _BLOCK_COLUMNS] for start in starts], axis=1)
    codes = estimator.compact_row_codes(sample)
    return codes if int(codes.max()) + 1 == N else None


def _narrow_codes(estimator: PlugInEstimator, layers: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The row codes of every narrow float32 layer (fewer than ``_NARROW`` columns), binned side
    by side in one column-major copy: {layer: codes}, empty where there is nothing to share. The
    codes are row keys where ranking them would take a sort (``row_codes(..., dense=False)``):
    ``code_informations`` counts them by sorting, with the numbers of the dense codes.

    A plug-in estimator codes each column on its own, so the codes are those of each layer coded
    alone (``estimator.compact_row_codes``); one copy, one finiteness check and one binning pass
    serve all the layers instead of a dozen small NumPy calls each. A non-finite sum (a NaN, an
    infinity, or an overflow) leaves every layer to its own check, and its error."""
    narrow = {layer: T for layer, T in layers.items() if isinstance(T, np.ndarray) and T.ndim == 2
              and T.dtype == np.float32 and 2 <= len(T) and T.shape[1] < _NARROW}
    if len(narrow) < 2 or len({len(T) for T in narrow.values()}) > 1:
        return {}
    blocks, start = [], 0
    for T in narrow.values():
        blocks.append((start, start + T.shape[1]))
        start += T.shape[1]
    # column-major: the column extremes of binning are ~15x faster there than on a narrow C-ordered T
    stack = np.empty((len(next(iter(narrow.values()))), start), dtype=np.float32, order="F")
    for T, (start, stop) in zip(narrow.values(), blocks):
        stack[:, start:stop] = T
    with np.errstate(all="ignore"):
        if not np.isfinite(np.sum(stack)):
            return {}
    return dict(zip(narrow, estimator.compact_row_codes(stack, blocks, dense=False)))


def ib_point_warnings(point: IBPoint, saturation_tol: float, where: str = "") -> list[tuple[type[Warning], str]]:
    """The warnings an IB point calls for, as (category, message) pairs, one per category at most.

    An axis over its bound by more than ``saturation_tol`` is named in a ``BoundWarning``; an
    axis within the tolerance of its ceiling (and not over it) in a ``SaturationWarning``.
    ``where`` (e.g. "layer 'fc1', estimator 'binning'") starts each message.
    """
    axes = (
        ("I(X;T)", point.complexity, point.complexity_ceiling, "its ceiling min(log2 N, H(X))",
         "every probe input is told apart" if point.complexity_ceiling > 0 else "X is constant"),
        ("I(T;Y)", point.prediction, point.prediction_ceiling, "its ceiling H(Y)",
         "T tells every class apart" if point.prediction_ceiling > 0 else "Y is constant"),
    )
    over = [f"{name} = {value:.4g} bits exceeds {what} = {ceiling:.4g} bits"
            for name, value, ceiling, what, _ in axes if value > ceiling + saturation_tol]
    at = [f"{name} = {value:.4g} bits is at {what} = {ceiling:.4g} bits ({why})"
          for name, value, ceiling, what, why in axes if ceiling - saturation_tol <= value <= ceiling + saturation_tol]
    lead = f"{where}: " if where else ""
    out: list[tuple[type[Warning], str]] = []
    if over:
        out.append((BoundWarning, (
            f"{lead}IB estimate over its bound: {'; '.join(over)}, a bound the true value obeys. "
            "The estimator (kde and gcmi estimate differential quantities) is not measuring an "
            "information there: read that axis as unreliable, or use a plug-in estimator, "
            "`kde_upper` with a `noise_variance`, or a noise-injected probe (Monitor `ib_noise`)."
        )))
    if at:
        out.append((SaturationWarning, (
            f"{lead}IB plane saturated: {'; '.join(at)}, tolerance {saturation_tol:.2g} bits. An "
            f"estimate at its ceiling cannot show what the network learns. Remedies: {REMEDIES}."
        )))
    return out


def binned_like(values: np.ndarray, reference: np.ndarray, n_bins: int) -> np.ndarray:
    """Codes of each column of ``values`` in the ``n_bins`` equal-width bins spanning the same
    column of ``reference`` (values outside fall in the edge bins), shape (N, k)."""
    values, reference = values.reshape(len(values), -1), reference.reshape(len(reference), -1)
    columns = []
    for j in range(reference.shape[1]):
        lo, hi = float(np.min(reference[:, j])), float(np.max(reference[:, j]))
        if not hi > lo:
            # a constant column: one bin of width 1, as the binning estimator does (or of one
            # float step where lo + 1 == lo, beyond 2^53)
            hi = max(lo + 1.0, float(np.nextafter(lo, np.inf)))
            if not math.isfinite(hi):
                lo, hi = float(np.nextafter(lo, -np.inf)), lo
        binning = get_estimator("binning", n_bins=n_bins, range=(lo, hi))
        columns.append(binning.codes(values[:, [j]].astype(np.float64))[:, 0])
    return np.column_stack(columns)


def binned_agreement(yhat: Any, y: Any, output_bins: int = 30) -> float:
    """The accuracy of a regressor (ours): the fraction of samples whose every output falls in
    the same one of ``output_bins`` equal-width bins over the range of the target's column.

    Parameters
    ----------
    yhat, y : array (N,) or (N, k)
        Real outputs and targets.
    output_bins : int
        Bins per output column (SPEC 2 bins regression outputs).
    """
    positive_int(output_bins, "output_bins")
    yhat, y = as_samples(yhat, "yhat"), as_samples(y, "y")
    check_same_length(yhat=yhat, y=y)
    if yhat.shape[1] != y.shape[1] or y.dtype.kind not in "biuf" or yhat.dtype.kind not in "biuf":
        raise ValueError(f"`yhat` ({yhat.shape}, {yhat.dtype}) and `y` ({y.shape}, {y.dtype}) must be real "
                         "outputs of the same shape.")
    return float(np.mean(np.all(binned_like(yhat, y, output_bins) == binned_like(y, y, output_bins), axis=1)))


# names that moved to gib.phases and gib.references: still importable from here for one release
_MOVED = {
    **dict.fromkeys(("VERDICTS", "CompressionPhase", "FLAT_RANGE", "default_noise_floor", "compression_phase",
                     "normalise"), "phases"),
    **dict.fromkeys(("NULL_FAMILIES", "TASKS", "GIBReference", "gib_reference", "null_predictions",
                     "NullReference", "null_trajectory", "NULL_COLUMNS"), "references"),
}


def __getattr__(name: str) -> Any:
    module = _MOVED.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(f"gib.planes.{name} has moved to gib.{module}.{name}; import it from there (or from gib).",
                  DeprecationWarning, stacklevel=2)
    return getattr(importlib.import_module(f"gib.{module}"), name)
