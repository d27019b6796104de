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
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._validation import as_samples, check_same_length, one_of, positive_int, renamed, seed_value
from .estimators import KDEUpperEstimator, LeaveOneOut, get_estimator
from .estimators.kde import non_negative_float
from .estimators.plugin import PlugInEstimator
from .exceptions import BoundWarning, SaturationWarning
from .measures import SYNERGY_KINDS, discrete_codes, pmi_weights, synergy_from

#: the plug-in estimator of gib_point's I(Yhat;Y): stateless, built once (``get_estimator`` reads
#: the class's signature at every call)
_PREDICTION_ESTIMATOR = get_estimator("discrete")

GIB_TARGETS = ("joint", "yhat", "y")

REMEDIES = (
    "fewer bins (`n_bins`), Saxe's fixed `bin_size`, `kde_upper` with a `noise_variance`, a "
    "noise-injected probe (Monitor `ib_noise`), or a bigger or lower-dimensional probe set "
    "(README: Reading a saturated IB plane)"
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

    @classmethod
    def of(cls, pieces: LeaveOneOut, prediction: float, kind: str = "featurewise",
           target: str = "joint") -> GIBPoint:
        """The point of the leave-one-out ``pieces`` of I(.;Z) under the PMI weights and of
        P = I(Yhat;Y): the synergy of ``kind`` and C = -S (``gib_point``'s last step)."""
        synergy = synergy_from(pieces, kind)
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


def gib_point(
    X: Any,
    yhat: Any,
    y: Any,
    estimator: Any = "binning",
    kind: str = "featurewise",
    target: str = "joint",
    resample: bool = False,
    seed: int = 0,
    output_bins: int = 30,
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
        Estimator of I(X_S;Z) by name and its options (``n_bins=...``).
    kind : {"featurewise", "sum_vs_whole"}
    target : {"joint", "yhat", "y"}
        Z = (Yhat, Y) (default), or Yhat or Y alone.
    resample : bool
        False (default): exact weighted estimates under the PMI-reweighted distribution.
        True: draw N samples with probability proportional to the PMI weights (seeded).
    seed : int
        Seed of the resampling.

    Returns
    -------
    GIBPoint
        ``prediction`` = I(Yhat;Y) is a plug-in estimate of the (binned) outputs whatever the
        estimator, since Yhat and Y are discrete.
    """
    one_of(kind, "kind", SYNERGY_KINDS)
    seed, output_bins = seed_value(seed), positive_int(output_bins, "output_bins")
    X = as_samples(X, "X")
    z = gib_target(yhat, y, target, output_bins)
    check_same_length(X=X, yhat=z)
    a, b = discrete_codes(yhat, "yhat", output_bins), discrete_codes(y, "y", output_bins)
    prediction = _PREDICTION_ESTIMATOR.mutual_information(a, b)
    weights = pmi_weights(a, b)
    if resample:
        idx = np.random.default_rng(seed).choice(len(X), size=len(X), p=weights)
        X, z, weights = X[idx], z[idx], None
    return GIBPoint.of(get_estimator(estimator, **options).leave_one_out(X, z, weights), prediction, kind, target)


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


def ib_ceilings(X: Any, y: Any, estimator: Any = "binning", **options: Any) -> tuple[float, float]:
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
    >>> ib_ceilings(X, X % 2, "discrete")
    (3.0, 1.0)
    """
    est = get_estimator(estimator, **options)
    X, y = as_samples(X, "X"), as_samples(y, "y")
    check_same_length(X=X, y=y)
    return _ceiling(est, X, continuous_is_unbounded=False), _ceiling(est, y, continuous_is_unbounded=True)


def _check_ceilings(ceilings: Any) -> tuple[float, float]:
    try:
        complexity, prediction = (float(c) for c in ceilings)
    except (TypeError, ValueError):
        raise ValueError(
            f"`ceilings` must be a pair (complexity_ceiling, prediction_ceiling) of numbers, as "
            f"`ib_ceilings(X, y, estimator)` returns, got {ceilings!r}."
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


def ib_point(
    T: Any,
    X: Any,
    y: Any,
    estimator: Any = "binning",
    saturation_tol: float | None = None,
    warn: bool = True,
    ceilings: tuple[float, float] | None = None,
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

    Returns
    -------
    IBPoint
        ``saturated`` when I(X;T) >= complexity_ceiling - tol or I(T;Y) >= prediction_ceiling - tol;
        ``over_bound`` when I(X;T) > complexity_ceiling + tol or I(T;Y) > prediction_ceiling + tol
        (only ``kde`` and ``gcmi`` can exceed them). An over-bound point is saturated too.
        A constant X or Y has a ceiling of 0 and so is saturated: that axis carries no signal.
    """
    est = get_estimator(estimator, **options)
    T, X, y = as_samples(T, "T"), as_samples(X, "X"), as_samples(y, "y")
    n = check_same_length(T=T, X=X, y=y)
    if T.dtype.kind not in "biuf":
        raise TypeError(
            f"`T` has dtype {T.dtype}; T is a layer's activations: pass numbers (labels belong in `y`)."
        )
    tol = math.log2(n) / n if saturation_tol is None else non_negative_float(saturation_tol, "saturation_tol")
    if ceilings is None:
        complexity_ceiling, prediction_ceiling = ib_ceilings(X, y, est)
    else:
        complexity_ceiling, prediction_ceiling = _check_ceilings(ceilings)
    complexity, prediction = _estimate(est, T, X, "X"), _estimate(est, T, y, "y")
    point = IBPoint.flagged(complexity, prediction, complexity_ceiling, prediction_ceiling, tol)
    if warn:
        for category, message in ib_point_warnings(point, tol):
            warnings.warn(message, category, stacklevel=2)
    return point


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
