"""IB and GIB points, the GIB objective, and phase detection along trajectories (SPEC 2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from ._validation import as_samples, check_same_length, one_of, to_numpy
from .estimators import get_estimator
from .measures import SYNERGY_KINDS, discrete_codes, pmi_weights, synergy_from

GIB_TARGETS = ("joint", "yhat", "y")


@dataclass(frozen=True)
class IBPoint:
    """A standard information-plane point of one layer T, in bits."""

    complexity: float  #: I(X;T)
    prediction: float  #: I(T;Y)


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
    X = as_samples(X, "X")
    z = gib_target(yhat, y, target, output_bins)
    check_same_length(X=X, yhat=z)
    a, b = discrete_codes(yhat, "yhat", output_bins), discrete_codes(y, "y", output_bins)
    prediction = get_estimator("discrete").mutual_information(a, b)
    weights = pmi_weights(a, b)
    if resample:
        idx = np.random.default_rng(seed).choice(len(X), size=len(X), p=weights)
        X, z, weights = X[idx], z[idx], None
    t = get_estimator(estimator, **options).leave_one_out(X, z, weights)
    s = synergy_from(t, kind)
    return GIBPoint(
        complexity=-s,
        prediction=float(prediction),
        synergy=s,
        joint=float(t.joint),
        single=t.single,
        complement=t.complement,
        kind=kind,
        target=target,
    )


def ib_point(T: Any, X: Any, y: Any, estimator: Any = "binning", **options: Any) -> IBPoint:
    """The standard IB point of a layer: (I(X;T), I(T;Y)) in bits.

    T is passed first to the estimator, which matters for ``kde_upper`` (noise is added to T).
    """
    est = get_estimator(estimator, **options)
    T, X, y = as_samples(T, "T"), as_samples(X, "X"), as_samples(y, "y")
    check_same_length(T=T, X=X, y=y)
    return IBPoint(complexity=est.mutual_information(T, X), prediction=est.mutual_information(T, y))


@dataclass(frozen=True)
class CompressionPhase:
    """Phase numbers of one trajectory (SPEC 2, last bullet); fractions are of each axis' range."""

    peak_index: int  #: record step at which complexity peaks
    peak_step: float  #: the step (epoch) value there
    fitting_complexity_rise: float  #: (C[peak] - C[0]) / range(C)
    fitting_prediction_rise: float  #: (P[peak] - P[0]) / range(P)
    drop_fraction: float  #: (C[peak] - C[last]) / range(C)
    spearman: float  #: rank correlation of C with the step after the peak
    prediction_loss: float  #: (P[peak] - P[last]) / range(P)
    compresses: bool


# Ranges below this many bits are floating-point noise, not movement along an axis.
FLAT_RANGE = 1e-9


def _spread(x: np.ndarray) -> float:
    r = float(np.max(x) - np.min(x))
    return r if r > FLAT_RANGE else 1.0


def compression_phase(
    complexity: Any,
    prediction: Any,
    steps: Any = None,
    *,
    last_fraction: float = 0.1,
    min_drop: float = 0.1,
    max_spearman: float = -0.5,
    max_prediction_loss: float = 0.1,
) -> CompressionPhase:
    """Detect a compression phase along a trajectory (SPEC 2; thresholds are ours, configurable).

    Compression is present when complexity peaks before the last ``last_fraction`` of the record
    steps, then falls by at least ``min_drop`` of its range, the fall is sustained (Spearman
    correlation of C with the step after the peak <= ``max_spearman``) and prediction loses at
    most ``max_prediction_loss`` of its range.
    """
    c = np.asarray(to_numpy(complexity), dtype=float).ravel()
    p = np.asarray(to_numpy(prediction), dtype=float).ravel()
    if len(c) != len(p):
        raise ValueError(f"`complexity` has {len(c)} values and `prediction` {len(p)}; they must match.")
    if len(c) < 3:
        raise ValueError(f"a trajectory needs at least 3 record steps, got {len(c)}.")
    s = np.arange(len(c), dtype=float) if steps is None else np.asarray(to_numpy(steps), dtype=float).ravel()
    if len(s) != len(c):
        raise ValueError(f"`steps` has {len(s)} values and `complexity` {len(c)}; they must match.")
    peak = int(np.argmax(c))
    rc, rp = _spread(c), _spread(p)
    after = c[peak:]
    if len(after) >= 3 and np.ptp(after) > 0:
        rho = float(stats.spearmanr(s[peak:], after).statistic)
    else:
        rho = float("nan")
    drop = (c[peak] - c[-1]) / rc
    loss = (p[peak] - p[-1]) / rp
    early = peak < len(c) - max(1, int(round(last_fraction * len(c))))
    compresses = bool(early and drop >= min_drop and rho <= max_spearman and loss <= max_prediction_loss)
    return CompressionPhase(
        peak_index=peak,
        peak_step=float(s[peak]),
        fitting_complexity_rise=float((c[peak] - c[0]) / rc),
        fitting_prediction_rise=float((p[peak] - p[0]) / rp),
        drop_fraction=float(drop),
        spearman=rho,
        prediction_loss=float(loss),
        compresses=compresses,
    )


def normalise(values: Any) -> np.ndarray:
    """Scale a trajectory to [0, 1] as the paper's planes do (a flat one, within ``FLAT_RANGE``
    bits, maps to 0)."""
    x = np.asarray(to_numpy(values), dtype=float)
    lo, hi = np.min(x), np.max(x)
    return (x - lo) / (hi - lo) if hi - lo > FLAT_RANGE else np.zeros_like(x)
