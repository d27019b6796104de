"""A noise reference for a comparison read off a run's own trajectories.

A claim such as "the GIB trajectory with 25 components is rougher than with 100" or "the strong
attack's late complexity is higher than the weak one's" compares two trajectories of one run;
its statistic is the mean over record steps of per-step terms (the differences of the two
trajectories' step-to-step changes, or of their late values). :func:`trajectory_interval` gives
that mean a 95% interval by a paired moving-block bootstrap:

- the record steps are resampled in blocks of consecutive steps (:func:`block_length`), so the
  interval keeps the dependence between neighbouring steps that an independent resampling of
  steps would ignore (and which would make it too narrow);
- the two trajectories are resampled together (the same blocks, the same seeds), so what they
  share (one network, one probe set) cancels in the difference;
- where the run has several seeds, each replicate first draws the seeds with replacement and
  averages their trajectories, so the interval also holds the spread between training runs.

The interval is the basic (pivotal) bootstrap interval ``(2 e - q_97.5, 2 e - q_2.5)`` of the
estimate ``e``, from the replicates' percentiles (as for the planes' intervals,
:data:`gib.planes.INTERVAL`). :meth:`Interval.reading` reads it against a threshold: above it
(True), below it (False), or containing it (None: the difference is inside the noise).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..planes import INTERVAL

#: bootstrap replicates of a comparison's interval (fixed, with a fixed seed: a report reads the same twice)
REPLICATES = 2000
#: fewest per-step terms for which an interval is given (fewer give none: NaN, read as uncertain)
MIN_TERMS = 3


def block_length(n_terms: int) -> int:
    """Consecutive record steps per resampled block: ``ceil(n_terms ** (1/3))``, the usual
    order of the moving-block length for a mean (Hall, Horowitz and Jing 1995)."""
    return max(1, math.ceil(n_terms ** (1 / 3) - 1e-9))


@dataclass(frozen=True)
class Interval:
    """A statistic of a run's trajectories with its 95% paired block-bootstrap interval.

    ``estimate``, ``low``, ``high``: the statistic and its interval (NaN bounds where there
    are fewer than :data:`MIN_TERMS` per-step terms); ``terms``: how many per-step terms it
    averages; ``block``: record steps per resampled block; ``seeds``: seeds averaged (and
    resampled where more than one); ``replicates``: bootstrap replicates.
    """

    estimate: float
    low: float
    high: float
    terms: int
    block: int
    seeds: int
    replicates: int

    def reading(self, threshold: float = 0.0) -> bool | None:
        """True when the whole interval lies above ``threshold``, False when it lies below it,
        None (uncertain) when it contains it or there is no interval."""
        if not (np.isfinite(self.low) and np.isfinite(self.high)):
            return None
        if self.low > threshold:
            return True
        if self.high < threshold:
            return False
        return None

    def method(self, terms: str = "record-step terms") -> str:
        """How the interval was made, in words (``terms`` names what was resampled)."""
        if not np.isfinite(self.low):
            return f"no interval: {self.terms} {terms}, fewer than {MIN_TERMS}"
        seeds = f"{self.seeds} seed" + ("" if self.seeds == 1 else "s, resampled")
        return (f"paired moving-block bootstrap over the {self.terms} {terms} (blocks of {self.block}, "
                f"{self.replicates} replicates, {seeds})")

    def bounds(self, digits: int = 4, unit: str = "") -> str:
        """``"95% interval [-0.0055, +0.0118]"`` (``unit`` after each number), or ``"no interval"``."""
        if not np.isfinite(self.low):
            return "no interval"
        return f"95% interval [{self.low:+.{digits}f}{unit}, {self.high:+.{digits}f}{unit}]"

    def reference(self, digits: int = 4, unit: str = "", terms: str = "record-step terms") -> str:
        """The noise reference in words: the bounds and how they were made (:meth:`bounds`,
        :meth:`method`)."""
        if not np.isfinite(self.low):
            return self.method(terms)
        return f"{self.bounds(digits, unit)} by a {self.method(terms)}"


def trajectory_interval(curves: np.ndarray, terms: Callable[[np.ndarray], np.ndarray], *,
                        replicates: int = REPLICATES, seed: int = 0) -> Interval:
    """A statistic of trajectories and its 95% paired moving-block bootstrap interval.

    Parameters
    ----------
    curves : ndarray, shape (n_seeds, n_steps, n_curves)
        The compared trajectories, one row per seed, all on the same record steps.
    terms : callable
        Maps the seed-averaged trajectories, shape (n_steps, n_curves), to the per-step terms
        (a 1-D array) whose mean is the statistic.
    replicates : int
        Bootstrap replicates (at least 100).
    seed : int
        Seed of the resampling.

    Returns
    -------
    Interval
        The statistic (the mean of ``terms`` of the seed mean) and its interval.
    """
    curves = np.asarray(curves, dtype=np.float64)
    if curves.ndim != 3 or curves.shape[0] < 1:
        raise ValueError(f"`curves` must have shape (n_seeds, n_steps, n_curves) with a seed; got {curves.shape}.")
    if replicates < 100:
        raise ValueError(f"`replicates` = {replicates} is too few for a 95% interval; use at least 100 (2000 is the "
                         "default).")
    n_seeds = curves.shape[0]
    base = np.asarray(terms(curves.mean(axis=0)), dtype=np.float64)
    estimate, m = float(np.mean(base)) if len(base) else float("nan"), len(base)
    block = block_length(max(m, 1))
    if m < MIN_TERMS:
        return Interval(estimate, float("nan"), float("nan"), m, block, n_seeds, replicates)
    rng = np.random.default_rng(seed)
    # moving blocks: ceil(m / block) blocks of consecutive terms from random starts, cut to m terms
    starts = rng.integers(0, m - block + 1, size=(replicates, -(-m // block)))
    index = (starts[:, :, None] + np.arange(block)).reshape(replicates, -1)[:, :m]
    if n_seeds == 1:
        values = base[index].mean(axis=1)
    else:
        drawn = rng.integers(0, n_seeds, size=(replicates, n_seeds))
        values = np.array([np.asarray(terms(curves[d].mean(axis=0)), dtype=np.float64)[i].mean()
                           for d, i in zip(drawn, index)])
    q_low, q_high = np.percentile(values, INTERVAL)
    return Interval(estimate, float(2 * estimate - q_high), float(2 * estimate - q_low), m, block, n_seeds, replicates)
