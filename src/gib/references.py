"""References of the GIB plane (SPEC 2, "References for the GIB plane", ours): the task's C*
and null predictors that reach a given accuracy with no training.

At full accuracy Yhat = Y and the GIB point no longer depends on the network: C* is a property
of the task. A trajectory whose C rises above C* on the way must come back to it as accuracy
reaches 1, so part of any "compression" is forced by accuracy alone. The null predictors
(:func:`null_predictions`, :class:`NullReference`, :func:`null_trajectory`) use no training and
reach a requested accuracy exactly, with error sets nested across accuracies (one random order
per seed), so that a run of accuracies is a trajectory; the notes above ``NULL_FAMILIES`` say how
each family is built.

The joint I(X;Z) of these points saturates whenever the probe inputs are all distinct (the
12-bit task's 4096 patterns are, by design); the synergy's leave-one-out pieces still carry the
measure, so the references give no ``SaturationWarning`` for it (see
``docs_link("planes", "gib-references")``).
"""

from __future__ import annotations

import hashlib
import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import linalg

from ._validation import accuracy_fraction, as_array, as_samples, check_same_length, one_of, positive_float
from ._validation import positive_int, seed_value
from .estimators import LeaveOneOut, get_estimator
from .exceptions import SaturationWarning
from .measures import SYNERGY_KINDS, discrete_codes, synergy_from
from .planes import GIB_TARGETS, GIBPlane, GIBPoint, binned_like, check_counts, gib_point, weighting_estimator

if TYPE_CHECKING:
    import pandas as pd

# The null families:
#
# - "linear": the least-squares linear predictor of y from [X, 1] (one-hot targets and argmax
#   for classes), its errors corrected in the seed's order until the target accuracy; below the
#   least-squares accuracy, correct samples (in the seed's order) are given the least-squares
#   runner-up class instead.
# - "random": y with a fixed random labelling (per seed, each sample a class other than its own,
#   uniformly) put in place of y on the first N - round(accuracy * N) samples of the seed's order.
#
# Regression (float y): outputs are binned in ``output_bins`` equal-width bins over the range of
# each column of y (SPEC 2), and the accuracy of a prediction is its binned agreement, the
# fraction of samples whose every output falls in the bin of y. "linear" is the least-squares
# prediction of y, the samples whose bins differ replaced by y in the seed's order; below its
# agreement, agreeing samples are moved to the centre of the neighbouring bin (the one above,
# below for the top bin). "random" puts, on the first samples of the seed's order, the y of a
# uniformly drawn sample lying in another bin (a plain permutation would leave some samples in
# their own bin and miss the requested agreement).

NULL_FAMILIES = ("linear", "random")
TASKS = ("classification", "regression")


@dataclass(frozen=True)
class GIBReference:
    """The GIB references of a task (SPEC 2, ours), in bits."""

    complexity_star: float  #: C* = C of a perfect predictor, Yhat = Y
    complexity_constant: float  #: C of a constant predictor (Z carries Y alone, unweighted)
    prediction_star: float  #: I(Y;Y) = H(Y) of the (binned) targets
    kind: str = "featurewise"
    target: str = "joint"


def _complexity_of(point: GIBPoint, kind: str) -> float:
    """C of either synergy kind from one GIB point's leave-one-out pieces."""
    return -synergy_from(LeaveOneOut(point.joint, point.single, point.complement), kind=kind)


def _task_inputs(X: Any, y: Any, task: str | None, output_bins: int) -> tuple[np.ndarray, np.ndarray, str]:
    """Check (X, y) for a reference or a null: X as 2-D samples, y as (N,) labels or (N,) / (N, k)
    real targets, and the task (float y is regression unless ``task`` says otherwise)."""
    X, y = as_samples(X, "X"), as_samples(y, "y")
    check_same_length(X=X, y=y)
    if task is None:
        task = "regression" if y.dtype.kind == "f" else "classification"
    one_of(task, "task", TASKS)
    positive_int(output_bins, "output_bins")
    if task == "classification":
        if y.shape[1] != 1:
            raise ValueError(
                f"`y` has shape {y.shape}; a classification task needs one label per sample, shape (N,)."
            )
        y = y[:, 0]
        if len(np.unique(y)) < 2:
            raise ValueError(f"`y` holds a single class ({y[0]!r}); a task needs at least two classes.")
        return X, y, task
    if y.dtype.kind not in "biuf":
        raise TypeError(f"`y` has dtype {y.dtype}; a regression task needs numbers (or pass task='classification').")
    if len(np.unique(discrete_codes(binned_like(y, y, output_bins), "y"))) < 2:
        raise ValueError(
            f"`y` falls in a single one of its {output_bins} output bins; a task needs at least two "
            "distinct binned targets (more `output_bins`, or varied targets)."
        )
    return X, (y[:, 0] if y.shape[1] == 1 else y), task


def _reference_point(X: np.ndarray, yhat: np.ndarray, y: np.ndarray, estimator: Any, target: str,
                     output_bins: int, options: dict) -> GIBPoint:
    """``gib_point`` of a reference predictor, without the estimator's warning that every row of X
    is distinct: that holds by design on tasks that enumerate their inputs (the 12-bit task), and
    the synergy's leave-one-out pieces still carry the measure (module docstring)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SaturationWarning)
        return gib_point(X, yhat, y, estimator=estimator, target=target, output_bins=output_bins, **options)


def _reference_points(X: np.ndarray, y: np.ndarray, task: str, estimator: Any, target: str, output_bins: int,
                      options: dict) -> tuple[GIBPoint, GIBPoint]:
    """GIB points of the perfect predictor (Yhat = Y) and of a constant one (the majority class,
    or the mean target)."""
    if task == "classification":
        classes, counts = np.unique(y, return_counts=True)
        constant = np.full(y.shape, classes[np.argmax(counts)], dtype=y.dtype)
    else:
        with np.errstate(over="ignore", invalid="ignore"):  # tested below (inf - inf is NaN)
            mean = np.mean(y, axis=0)
        if not np.all(np.isfinite(mean)):  # +-1.7e308: the sum overflows; summed in 2^-k units
            k = math.ceil(math.log2(len(y))) + 1
            mean = np.ldexp(np.mean(np.ldexp(y.astype(np.float64), -k), axis=0), k)
        constant = np.broadcast_to(mean, y.shape).astype(np.float64)
    star = _reference_point(X, y, y, estimator, target, output_bins, options)
    flat = _reference_point(X, constant, y, estimator, target, output_bins, options)
    return star, flat


def _reference_of(star: GIBPoint, constant: GIBPoint, kind: str, target: str) -> GIBReference:
    return GIBReference(
        complexity_star=_complexity_of(star, kind),
        complexity_constant=_complexity_of(constant, kind),
        prediction_star=star.prediction,
        kind=kind,
        target=target,
    )


def gib_reference(
    X: Any,
    y: Any,
    estimator: Any = "binning",
    kind: str = "featurewise",
    target: str = "joint",
    output_bins: int = 30,
    task: str | None = None,
    **options: Any,
) -> GIBReference:
    """The task's own GIB references (SPEC 2, ours): C* of a perfect predictor and C of a
    constant one.

    C* = ``gib_point(X, y, y).complexity``: at full accuracy the GIB point depends on the task
    alone, so a trajectory that rises above C* must come back to it as accuracy reaches 1. A
    constant predictor leaves Z = (c, Y) with uniform PMI weights, so its C is -S(X->Y) under the
    unweighted distribution; the perfect predictor's PMI weights equalise the classes, so the two
    coincide for balanced classes (and differ by about 3e-6 bits on the 12-bit task).

    Parameters
    ----------
    X : array (N, n)
        The GIB input features.
    y : array (N,) or (N, k)
        Targets: class labels, or real values binned in ``output_bins`` bins (regression).
    estimator, options
        Estimator of I(X_S;Z) by name (or instance) and its options, as for :func:`gib_point`.
    kind : {"featurewise", "sum_vs_whole"}
    target : {"joint", "yhat", "y"}
    output_bins : int
    task : {"classification", "regression"}, optional
        Default: regression for floating-point ``y``, classification otherwise.

    Returns
    -------
    GIBReference

    Examples
    --------
    >>> import itertools, numpy as np
    >>> X = np.array(list(itertools.product([0, 1], repeat=2)))
    >>> round(gib_reference(X, X[:, 0] ^ X[:, 1], estimator="discrete").complexity_star, 6)
    -1.0
    """
    one_of(kind, "kind", SYNERGY_KINDS)
    one_of(target, "target", GIB_TARGETS)
    weighting_estimator(estimator, options)
    X, y, task = _task_inputs(X, y, task, output_bins)
    star, constant = _reference_points(X, y, task, estimator, target, output_bins, options)
    return _reference_of(star, constant, kind, target)


@dataclass(frozen=True)
class _NullPlan:
    """One seed's null predictor at every accuracy: ``base`` where a sample counts as correct,
    ``wrong`` where it is an error; with m errors the errors are ``order[:m]`` (nested)."""

    base: np.ndarray
    wrong: np.ndarray
    order: np.ndarray

    def predictions(self, n_errors: int) -> np.ndarray:
        yhat = self.base.copy()
        errors = self.order[:n_errors]
        yhat[errors] = self.wrong[errors]
        return yhat


_LARGEST_FITTED = 1e150  # magnitudes whose squares (and sums of them) a least-squares fit can hold


def _least_squares(X: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Fitted values of the least-squares fit of ``targets`` on [X, 1]."""
    if X.dtype.kind not in "biuf":
        raise TypeError(f"`X` has dtype {X.dtype}; the linear null fits y on X and needs numbers.")
    for name, values in (("X", X), ("y", targets)):
        largest = float(np.max(np.abs(values.astype(np.float64)))) if values.size else 0.0
        if largest > _LARGEST_FITTED:  # the fit's products and sums of squares would overflow
            raise ValueError(
                f"`{name}` has values of magnitude up to {largest:.3g}; the linear null's least-squares "
                f"fit needs magnitudes below {_LARGEST_FITTED:g}: rescale `{name}`, or use family='random'."
            )
    design = np.column_stack([X.astype(np.float64), np.ones(len(X))])
    # QR with column pivoting: rank-deficient designs (constant pixels) at half the cost of an SVD
    coef = linalg.lstsq(design, targets, lapack_driver="gelsy")[0]
    return design @ coef


def _linear_order(order: np.ndarray, is_error: np.ndarray) -> np.ndarray:
    """Errors last-corrected-first, then the correct samples in the seed's order: with m errors
    below the least-squares count the errors left are the last m in the seed's order."""
    ranked = is_error[order]
    return np.concatenate([order[ranked][::-1], order[~ranked]])


def _null_plans(X: np.ndarray, y: np.ndarray, task: str, family: str, seeds: list[int],
                output_bins: int) -> list[_NullPlan]:
    """The null predictors of checked inputs (see the notes above ``NULL_FAMILIES``), one per seed;
    the least-squares fit is shared by the seeds."""
    one_of(family, "family", NULL_FAMILIES)
    n = len(y)
    if task == "classification":
        classes, codes = np.unique(y, return_inverse=True)
        k = len(classes)
        if family == "linear":
            scores = _least_squares(X, np.eye(k)[codes])
            ranked = np.argsort(-scores, axis=1, kind="stable")
            is_error = ranked[:, 0] != codes
            wrong = classes[np.where(is_error, ranked[:, 0], ranked[:, 1])]
        plans = []
        for seed in seeds:
            rng = np.random.default_rng(seed)
            order = rng.permutation(n)
            if family == "linear":
                plans.append(_NullPlan(y, wrong, _linear_order(order, is_error)))
            else:
                # uniform among the k - 1 other classes
                labelling = classes[(codes + rng.integers(1, k, size=n)) % k]
                plans.append(_NullPlan(y, labelling, order))
        return plans
    if output_bins < 2:
        raise ValueError(f"`output_bins` is {output_bins}; a regression null needs at least 2 bins to be wrong.")
    target = y.reshape(n, -1).astype(np.float64)
    bins = binned_like(target, target, output_bins)
    if family == "linear":
        fitted = _least_squares(X, target)
        is_error = np.any(binned_like(fitted, target, output_bins) != bins, axis=1)
        lo, hi = target.min(axis=0), target.max(axis=0)
        with np.errstate(over="ignore"):  # a range beyond the float range: the centres below
            width = np.where(hi > lo, hi - lo, 1.0) / output_bins
        neighbour = np.where(bins < output_bins - 1, bins + 1, bins - 1)
        base = np.where(is_error[:, None], target, fitted)
        if np.all(np.isfinite(width)):
            centre = lo + (neighbour + 0.5) * width
        else:  # +-1.7e308: the same centre as a mix of the ends, which cannot overflow
            share = (neighbour + 0.5) / output_bins
            centre = lo * (1.0 - share) + hi * share
        wrong = np.where(is_error[:, None], fitted, centre)
    else:
        cell = discrete_codes(bins, "y")
        by_cell = np.argsort(cell, kind="stable")
        counts = np.bincount(cell)
        start = np.cumsum(counts) - counts
    shape = y.shape
    plans = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        order = rng.permutation(n)
        if family == "linear":
            plans.append(_NullPlan(base.reshape(shape), wrong.reshape(shape), _linear_order(order, is_error)))
        else:
            # a uniformly drawn sample of another bin: skip the sample's own block of the sorted cells
            others = n - counts[cell]
            draw = np.minimum((rng.random(n) * others).astype(np.int64), others - 1)
            draw += (draw >= start[cell]) * counts[cell]
            plans.append(_NullPlan(target.reshape(shape), target[by_cell[draw]].reshape(shape), order))
    return plans


def _n_errors(accuracy: float, n: int) -> int:
    return n - int(round(accuracy * n))


def null_predictions(
    X: Any, y: Any, accuracy: float, family: str = "linear", seed: int = 0, *, task: str | None = None,
    output_bins: int = 30,
) -> np.ndarray:
    """Predictions of a null predictor that uses no training (SPEC 2, ours), at one accuracy.

    Exactly ``round(accuracy * N)`` samples are correct (for regression: fall in the bin of y).
    For a given seed the error sets are nested across accuracies (one random order per seed), so
    successive accuracies form a trajectory.

    Parameters
    ----------
    X : array (N, n)
        The inputs a "linear" null fits y on (numbers).
    y : array (N,) or (N, k)
        Class labels, or real targets (regression).
    accuracy : float in [0, 1]
    family : {"linear", "random"}
        "linear": the least-squares linear predictor of y from [X, 1] (one-hot targets, argmax),
        its errors corrected in the seed's order until the target accuracy, or below its own
        accuracy correct samples given its runner-up class in the seed's order. "random": y with
        a fixed random labelling of the seed (each sample a class other than its own, uniformly)
        on the first N - round(accuracy * N) samples of the seed's order. Regression: see the
        notes in this module's source above ``NULL_FAMILIES``.
    seed : int
    task : {"classification", "regression"}, optional
        Default: regression for floating-point ``y``.
    output_bins : int
        Bins of regression outputs (SPEC 2).

    Returns
    -------
    array, the shape and classes of ``y`` (floats for regression)
    """
    accuracy = accuracy_fraction(accuracy, "accuracy")
    X, y, task = _task_inputs(X, y, task, output_bins)
    plan = _null_plans(X, y, task, family, [seed_value(seed)], output_bins)[0]
    return plan.predictions(_n_errors(accuracy, len(y)))


class NullReference:
    """The seed-averaged null predictor of one probe set at any accuracy, and the task's C*.

    Built once per probe set and shared (e.g. by every Monitor of an experiment that trains
    several models on the same patterns); GIB points are computed lazily and cached.

    ``at(accuracy)`` is exact at the grid accuracies, multiples of ``resolution`` (error counts
    N - round(a N) there), and linear interpolation between the two neighbouring grid points
    elsewhere (ours: it bounds a run's cost to at most 1/resolution + 1 null points whatever the
    number of record steps, and the null moves by a fraction of a grid step's worth of errors).

    Bootstrap replicates (:meth:`replicates_at`, :meth:`reference_replicates`) follow the same
    recipe under given bootstrap counts (a :class:`gib.planes.GIBPlane`'s ``counts``): each
    seed's null predictions at a grid accuracy stay as they are (they are defined on the whole
    probe set), the probe set is reweighted by each replicate's counts and the GIB point
    re-estimated (PMI weights, P and the leave-one-out pieces, as
    :meth:`gib.planes.GIBPlane.replicates` does for a network), the seeds are averaged and the
    grid interpolated with the weights of :meth:`at`. Replicate r of the null, of C* and of the
    network's point then come from the same resampled probe set, so their differences are
    paired (:func:`gib.planes.difference_interval`). The interval is that of the probe set's
    sampling: the spread over null seeds is a different quantity (:func:`null_trajectory`'s
    ``complexity_std``). They are computed only when asked for, once per grid accuracy and set
    of counts, and cached: a run costs at most (1/resolution + 1) x ``n_seeds`` x B
    re-estimated points beyond the network's own, plus B for C*.

    Parameters
    ----------
    X, y
        The probe set's GIB features and targets (see :func:`null_predictions`).
    family : {"linear", "random"}
    n_seeds : int
        Null predictors averaged, with seeds ``seed`` .. ``seed + n_seeds - 1``.
    seed : int
    resolution : float
        Spacing of the grid accuracies; 1 / resolution must be an integer.
    estimator, kind, target, output_bins, options
        As for :func:`gib_point`; ``kind`` is the default of :meth:`at` and :attr:`reference`
        (one leave-one-out serves both kinds).
    task : {"classification", "regression"}, optional
    """

    def __init__(
        self,
        X: Any,
        y: Any,
        family: str = "linear",
        n_seeds: int = 3,
        seed: int = 0,
        resolution: float = 0.01,
        estimator: Any = "binning",
        kind: str = "featurewise",
        target: str = "joint",
        output_bins: int = 30,
        task: str | None = None,
        **options: Any,
    ):
        self.family = one_of(family, "family", NULL_FAMILIES)
        self.n_seeds = positive_int(n_seeds, "n_seeds")
        self.seeds = list(range(seed_value(seed), seed_value(seed) + self.n_seeds))
        self.resolution = positive_float(resolution, "resolution")
        steps = 1.0 / self.resolution
        if self.resolution > 1 or abs(steps - round(steps)) > 1e-6 * steps:
            raise ValueError(
                f"`resolution` must divide 1 into equal steps (0.01, 0.02, 0.05, ...), got {resolution!r}."
            )
        self._steps = int(round(steps))
        self.kind = one_of(kind, "kind", SYNERGY_KINDS)
        self.target = one_of(target, "target", GIB_TARGETS)
        self.output_bins = positive_int(output_bins, "output_bins")
        self._X, self._y, self.task = _task_inputs(X, y, task, output_bins)
        self.estimator, self.options = estimator, dict(options)
        weighting_estimator(estimator, options)  # fail now, not at the first record
        self._plans = _null_plans(self._X, self._y, self.task, family, self.seeds, self.output_bins)
        self._points: dict[int, list[GIBPoint]] = {}
        self._references: tuple[GIBPoint, GIBPoint] | None = None
        # bootstrap replicates, built only when asked for: {counts key: checked counts} and, per
        # counts key, {n_errors: {kind or "prediction": (n_seeds, B)}} and C* {kind: (B,)}
        self._plane: GIBPlane | None = None
        self._counts: dict[str, np.ndarray] = {}
        self._replicates: dict[str, dict[int, dict[str, np.ndarray]]] = {}
        self._reference_replicates: dict[str, dict[str, np.ndarray]] = {}

    @property
    def n_samples(self) -> int:
        return len(self._y)

    @property
    def n_features(self) -> int:
        return int(self._X.shape[1])

    @property
    def n_computed(self) -> int:
        """How many accuracies (error counts) have been computed so far."""
        return len(self._points)

    def _points_at(self, n_errors: int) -> list[GIBPoint]:
        if n_errors not in self._points:
            self._points[n_errors] = [
                _reference_point(self._X, plan.predictions(n_errors), self._y, self.estimator, self.target,
                                 self.output_bins, self.options)
                for plan in self._plans
            ]
        return self._points[n_errors]

    def _stats(self, n_errors: int, kind: str) -> tuple[float, float, float, float]:
        """Mean and spread (ddof 1, 0 for one seed) over the seeds of (C, P) at ``n_errors``."""
        points = self._points_at(n_errors)
        c = np.array([_complexity_of(p, kind) for p in points])
        p = np.array([point.prediction for point in points])
        spread = (lambda v: float(np.std(v, ddof=1))) if len(points) > 1 else (lambda v: 0.0)
        return float(np.mean(c)), float(np.mean(p)), spread(c), spread(p)

    def _grid(self, index: int, kind: str) -> tuple[float, float]:
        c, p, _, _ = self._stats(_n_errors(index / self._steps, self.n_samples), kind)
        return c, p

    def _bracket(self, accuracy: float) -> list[tuple[int, float]]:
        """The grid indices of ``accuracy`` and their interpolation weights: the one grid point
        (weight 1) at a grid accuracy, else its two neighbours, linearly."""
        where = accuracy * self._steps
        nearest = int(round(where))
        if abs(where - nearest) < 1e-9:
            return [(nearest, 1.0)]
        lo = int(np.floor(where))
        frac = where - lo
        return [(lo, 1 - frac), (lo + 1, frac)]

    def at(self, accuracy: float, kind: str | None = None) -> tuple[float, float]:
        """(complexity, prediction) of the seed-averaged null at ``accuracy``, in bits: exact at
        the grid accuracies, linearly interpolated between them."""
        accuracy = accuracy_fraction(accuracy, "accuracy")
        kind = self.kind if kind is None else one_of(kind, "kind", SYNERGY_KINDS)
        bracket = self._bracket(accuracy)
        if len(bracket) == 1:
            return self._grid(bracket[0][0], kind)
        (lo, w0), (hi, w1) = bracket
        (c0, p0), (c1, p1) = self._grid(lo, kind), self._grid(hi, kind)
        return w0 * c0 + w1 * c1, w0 * p0 + w1 * p1

    def replicates_at(self, accuracy: float, counts: Any, kind: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(complexity, prediction) of the seed-averaged null at ``accuracy`` on each bootstrap
        replicate, in bits: the bootstrap values of :meth:`at` (class docstring).

        Parameters
        ----------
        accuracy : float in [0, 1]
        counts : array (B, N)
            The replicates as bootstrap counts of this probe set's N samples
            (:func:`gib.planes.bootstrap_counts`; a recorder passes its plane's ``counts``, so
            replicate r pairs with the network's replicate r).
        kind : {"featurewise", "sum_vs_whole"}, optional
            Default: this null's ``kind``.

        Returns
        -------
        (complexity, prediction) : two arrays (B,)
            :func:`gib.planes.basic_interval` of each around :meth:`at` is its 95% interval.
        """
        accuracy = accuracy_fraction(accuracy, "accuracy")
        kind = self.kind if kind is None else one_of(kind, "kind", SYNERGY_KINDS)
        key = self._counts_key(counts)
        (first, w0), *rest = self._bracket(accuracy)
        grid = self._grid_replicates(first, key)
        c, p = np.mean(grid[kind], axis=0), np.mean(grid["prediction"], axis=0)
        if not rest:
            return c, p
        (second, w1), = rest
        grid = self._grid_replicates(second, key)
        return (w0 * c + w1 * np.mean(grid[kind], axis=0),
                w0 * p + w1 * np.mean(grid["prediction"], axis=0))

    def reference_replicates(self, counts: Any, kind: str | None = None) -> np.ndarray:
        """C* (the perfect predictor's complexity, :attr:`reference`) on each bootstrap replicate
        of ``counts`` (B, N), in bits, an array (B,); see :meth:`replicates_at`."""
        kind = self.kind if kind is None else one_of(kind, "kind", SYNERGY_KINDS)
        key = self._counts_key(counts)
        if key not in self._reference_replicates:
            replicates = self._replicates_of(self._y, self._counts[key])
            self._reference_replicates[key] = {k: GIBPlane.replicate_values(replicates, k)[0] for k in SYNERGY_KINDS}
        return self._reference_replicates[key][kind].copy()

    def _counts_key(self, counts: Any) -> str:
        """The cache key of checked bootstrap counts (a digest of their values)."""
        checked = check_counts(counts, self.n_samples)
        key = hashlib.blake2b(checked.tobytes(), digest_size=16).hexdigest()
        self._counts.setdefault(key, checked)
        return key

    def _replicates_of(self, yhat: np.ndarray, counts: np.ndarray) -> list:
        """The replicates of the GIB point of ``yhat`` under ``counts`` (without the saturation
        warning, as :func:`_reference_point`)."""
        if self._plane is None:
            self._plane = GIBPlane(self._X, self._y, self.estimator, target=self.target,
                                   output_bins=self.output_bins, **self.options)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SaturationWarning)
            return self._plane.replicates(yhat, counts)

    def _grid_replicates(self, index: int, key: str) -> dict[str, np.ndarray]:
        """Each seed's C (both kinds) and P on every replicate at grid point ``index``: arrays
        (n_seeds, B), computed once per counts."""
        n_errors = _n_errors(index / self._steps, self.n_samples)
        cached = self._replicates.setdefault(key, {})
        if n_errors not in cached:
            values: dict[str, list[np.ndarray]] = {k: [] for k in (*SYNERGY_KINDS, "prediction")}
            for plan in self._plans:
                replicates = self._replicates_of(plan.predictions(n_errors), self._counts[key])
                for k in SYNERGY_KINDS:
                    complexity, prediction = GIBPlane.replicate_values(replicates, k)
                    values[k].append(complexity)
                values["prediction"].append(prediction)
            cached[n_errors] = {k: np.vstack(v) for k, v in values.items()}
        return cached[n_errors]

    def reference_for(self, kind: str | None = None) -> GIBReference:
        """The task's :class:`GIBReference` for ``kind`` (default: this null's), computed once."""
        kind = self.kind if kind is None else one_of(kind, "kind", SYNERGY_KINDS)
        if self._references is None:
            self._references = _reference_points(self._X, self._y, self.task, self.estimator, self.target,
                                                  self.output_bins, self.options)
        return _reference_of(*self._references, kind, self.target)

    @property
    def reference(self) -> GIBReference:
        """The task's :class:`GIBReference` (C*, the constant predictor's C), computed once."""
        return self.reference_for(self.kind)

    def __repr__(self) -> str:
        return (f"NullReference(family={self.family!r}, n_seeds={self.n_seeds}, resolution={self.resolution}, "
                f"N={self.n_samples}, n={self.n_features}, task={self.task!r})")


def null_trajectory(
    X: Any,
    y: Any,
    accuracies: Any,
    family: str = "linear",
    seed: int = 0,
    n_seeds: int = 3,
    estimator: Any = "binning",
    kind: str = "featurewise",
    target: str = "joint",
    output_bins: int = 30,
    task: str | None = None,
    **options: Any,
) -> pd.DataFrame:
    """GIB points of null predictors (no training) at each requested accuracy, seed-averaged.

    Parameters
    ----------
    X, y, family, task, output_bins
        As for :func:`null_predictions`.
    accuracies : sequence of float in [0, 1]
        Exactly ``round(a * N)`` correct samples at each ``a``; the error sets of one seed are
        nested, so increasing accuracies trace a trajectory.
    seed, n_seeds : int
        Seeds ``seed`` .. ``seed + n_seeds - 1`` are averaged.
    estimator, kind, target, options
        As for :func:`gib_point`.

    Returns
    -------
    DataFrame
        One row per accuracy: ``accuracy`` (as requested), ``complexity``, ``prediction`` (seed
        means, bits), ``complexity_std``, ``prediction_std`` (spread over seeds, ddof 1, 0 for one
        seed), ``n_seeds`` and ``family``.
    """
    import pandas as pd  # here, so that `import gib` stays light for NumPy-only use

    values = as_array(accuracies, "accuracies")
    if values.ndim == 0:
        values = values[None]
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"`accuracies` must be a non-empty 1-D sequence of numbers in [0, 1], got shape {values.shape}.")
    if values.dtype.kind not in "biuf" or values.dtype.kind == "b" or not np.all((values >= 0) & (values <= 1)):
        raise ValueError(f"`accuracies` must hold numbers in [0, 1] (no NaN), got {values.tolist()!r}.")
    null = NullReference(X, y, family=family, n_seeds=n_seeds, seed=seed, estimator=estimator, kind=kind,
                         target=target, output_bins=output_bins, task=task, **options)
    records = []
    for accuracy in values.astype(float):
        c, p, c_std, p_std = null._stats(_n_errors(float(accuracy), null.n_samples), null.kind)
        records.append(dict(accuracy=float(accuracy), complexity=c, prediction=p, complexity_std=c_std,
                            prediction_std=p_std, n_seeds=null.n_seeds, family=null.family))
    return pd.DataFrame.from_records(records, columns=NULL_COLUMNS)


NULL_COLUMNS = ["accuracy", "complexity", "prediction", "complexity_std", "prediction_std", "n_seeds", "family"]
