"""Verdicts over seeds, with their uncertainty (ours; SPEC 2, "Phases" and "References for the GIB plane").

The phase rule (:class:`gib.phases.PhaseRule`) reads one trajectory. A condition trained with
several seeds is read by one seed rule, :class:`SeedRule`, the same for every claim:

1. the phase rule reads the seed-averaged trajectory (the paper's figures show it): that is the
   point reading, with its drop, peak and, against the null predictors, the network's drop minus
   the null's;
2. the seeds are resampled with replacement, each resample's average is read by the same rule,
   and every number gets the central ``level`` interval of its resamples. The null predictors
   are resampled with the network's seeds (their trajectory at a seed follows that seed's
   accuracy), so the network-minus-null difference is paired per seed;
3. a condition *compresses* when at least ``level`` of the resamples compress, *does not* when at
   most ``1 - level`` do, and is *uncertain* otherwise: a verdict whose interval straddles a
   threshold of the rule is neither yes nor no. Where the run recorded within-run bootstrap
   intervals (``complexity_low``/``complexity_high`` rows, ``Monitor(bootstrap=B)``), a drop whose
   within-run interval straddles the rule's minimum drop is uncertain as well, and so is a
   beyond-the-null reading whose paired within-run interval (``null_difference_low``/``_high``)
   straddles it;
4. a claim holds when every condition it names reads as it says, fails when one reads the other
   way, and is uncertain otherwise; a condition the rule cannot read (saturated, flat, too few
   records) leaves a claim uncertain, never confirms it.

With one seed there is nothing to resample: the verdict is the phase rule's, and the tables say
that it rests on one seed. :meth:`SeedRule.describe` writes all of this from the rule's fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._validation import fraction, positive_int
from .phases import (
    DEFAULT_RULE,
    UNREAD,
    PhaseRule,
    Verdict,
    check_frame,
    conditions_in,
    plane_choices,
    planes_in,
    probe_size,
    select_rows,
)

#: the seed rule's verdict when the resamples disagree
UNCERTAIN = "uncertain"


@dataclass(frozen=True)
class SeedRule:
    """How a condition's verdict is read over its seeds (module docstring; ours).

    Parameters
    ----------
    level : float in (0.5, 1)
        Coverage of the intervals, and the share of resamples a verdict needs (0.95).
    resamples : int
        Resamples of the seeds (2000; with n seeds there are at most C(2n-1, n) distinct ones,
        126 for five, each read once).
    seed : int
        Seed of the resampling, so that a report is reproducible.
    """

    level: float = 0.95
    resamples: int = 2000
    seed: int = 0

    def __post_init__(self) -> None:
        level = fraction(self.level, "level")
        if not 0.5 < level < 1:
            raise ValueError(f"`level` must lie strictly between 0.5 and 1 (a coverage, such as 0.95); got {level}.")
        object.__setattr__(self, "level", level)
        object.__setattr__(self, "resamples", positive_int(self.resamples, "resamples"))
        object.__setattr__(self, "seed", int(self.seed))

    def describe(self, rule: PhaseRule = DEFAULT_RULE) -> str:
        """The seed rule in words, with this rule's numbers and ``rule``'s minimum drop."""
        share, rest = f"{self.level:.0%}", f"{1 - self.level:.0%}"
        return (
            "Every verdict is read over seeds the same way (`gib.verdicts.SeedRule`): the phase rule reads the "
            "seed-averaged trajectory; the seeds are resampled with replacement "
            f"({self.resamples} times, resampling seed {self.seed}), the rule reads each resample's average, and "
            f"each number's interval is the central {share} of its resamples. A condition *compresses* when at "
            f"least {share} of the resamples compress, *does not* when at most {rest} do, and is *{UNCERTAIN}* "
            "otherwise; where the run recorded within-run bootstrap intervals, a drop (or the network's drop minus "
            f"the null's) whose interval straddles the rule's minimum drop ({rule.min_drop:.0%} of the range) is "
            f"{UNCERTAIN} too. The null predictors "
            "are resampled with the network's seeds (paired): the network goes *beyond the null* when it "
            f"compresses, its drop exceeds the null's by at least {rule.min_drop:.0%} of its complexity range "
            f"and it peaks further above C* than the null does, in at least {share} of the resamples (not beyond "
            f"in at most {rest}). A claim holds when every condition it names reads as it says, fails when one "
            f"reads the other way, and is {UNCERTAIN} otherwise; a condition the rule cannot read (saturated, "
            "flat, too few records) leaves a claim uncertain. With one seed there is no interval: the verdict "
            "is the rule's on that seed."
        )

    def draws(self, n_seeds: int) -> tuple[np.ndarray, np.ndarray]:
        """The distinct resamples of ``n_seeds`` seeds as weights (K, n_seeds) summing to 1 per row,
        and how many of the ``resamples`` draws gave each (K,)."""
        rng = np.random.default_rng(self.seed)
        picks = np.sort(rng.integers(0, n_seeds, size=(self.resamples, n_seeds)), axis=1)
        distinct, counts = np.unique(picks, axis=0, return_counts=True)
        weights = np.stack([np.bincount(row, minlength=n_seeds) for row in distinct]) / n_seeds
        return weights, counts


#: the rule every report applies
DEFAULT_SEED_RULE = SeedRule()


@dataclass(frozen=True)
class _Seeds:
    """One condition x plane, one row per seed on the record steps every seed has."""

    seeds: list
    steps: np.ndarray
    epochs: np.ndarray
    complexity: np.ndarray  # (S, T)
    prediction: np.ndarray
    saturated: np.ndarray
    low: np.ndarray | None = None  # within-run interval of complexity, when recorded
    high: np.ndarray | None = None
    null: np.ndarray | None = None  # the null predictors' complexity at each seed's accuracy
    star: np.ndarray | None = None  # C* per seed (S,)
    difference_low: np.ndarray | None = None  # within-run interval of complexity minus the null's, when recorded
    difference_high: np.ndarray | None = None


def _matrix(rows: pd.DataFrame, measure: str, seeds: list, steps: np.ndarray) -> np.ndarray | None:
    picked = rows[rows["measure"] == measure]
    if picked.empty:
        return None
    table = picked.pivot_table(index="seed", columns="step", values="value", aggfunc="first")
    table = table.reindex(index=seeds, columns=steps)
    return None if table.isna().to_numpy().any() else table.to_numpy(float)


def _seed_arrays(frame: pd.DataFrame, plane: str, choices: dict) -> _Seeds:
    rows = frame[frame["plane"] == plane]
    rows = select_rows(rows[rows["measure"].isin(("complexity", "prediction"))], plane, choices)
    keys = {c: pd.unique(rows[c]) for c in ("condition", "layer", "estimator", "kind")}
    mine = frame[frame["plane"] == plane]
    for column, values in keys.items():
        mine = mine[mine[column].isin(values)]
    if rows.duplicated(["seed", "step", "measure"]).any():
        raise ValueError(f"the selected {plane} rows hold several values per seed, step and measure; "
                         "drop duplicate rows first.")
    seeds = sorted(pd.unique(rows["seed"]), key=str)
    # the steps at which every seed has both measures
    per_step = rows.groupby(["step", "measure"])["seed"].nunique().unstack("measure")
    steps = np.sort(per_step.index[(per_step == len(seeds)).all(axis=1)].to_numpy())
    epochs = rows[rows["step"].isin(steps)].groupby("step")["epoch"].first().reindex(steps).fillna(
        pd.Series(steps, index=steps).astype(float)).to_numpy(float)
    complexity = _matrix(rows, "complexity", seeds, steps)
    prediction = _matrix(rows, "prediction", seeds, steps)
    flags = _matrix(mine, "saturated", seeds, steps)
    saturated = (flags >= 0.5).astype(float) if flags is not None else np.zeros_like(complexity)
    null = _matrix(mine, "null_complexity", seeds, steps)
    stars = mine[mine["measure"] == "reference_complexity"].groupby("seed")["value"].mean().reindex(seeds)
    star = None if stars.isna().any() else stars.to_numpy(float)
    return _Seeds(seeds, steps, epochs, complexity, prediction, saturated,
                  *_bounds(mine, "complexity", seeds, steps), null, star,
                  *_bounds(mine, "null_difference", seeds, steps))


def _bounds(rows: pd.DataFrame, name: str, seeds: list, steps: np.ndarray) -> tuple:
    """The within-run interval rows ``<name>_low`` and ``<name>_high`` as matrices, or two Nones
    unless both are recorded."""
    low, high = (_matrix(rows, f"{name}_{end}", seeds, steps) for end in ("low", "high"))
    return (low, high) if low is not None and high is not None else (None, None)


def _run_interval(low: np.ndarray, high: np.ndarray, peak: int) -> tuple[float, float]:
    """The within-run interval of a fall from the record ``peak`` to the last, averaged over the
    seeds: from the low end at the peak to the high end at the last record, and back (a
    conservative bound, as the two ends are not resampled together)."""
    return float(np.mean(low[:, peak] - high[:, -1])), float(np.mean(high[:, peak] - low[:, -1]))


def _read(data: _Seeds, weights: np.ndarray, rule: PhaseRule, n_samples: int | None) -> dict:
    """The phase rule on the ``weights``-average of the seeds, and the null's numbers there."""
    c, p = weights @ data.complexity, weights @ data.prediction
    phase = rule.verdict(c, p, data.steps, n_samples=n_samples, saturated=weights @ data.saturated)
    peak = phase.peak_index
    out = {"phase": phase, "drop_bits": phase.drop_bits, "drop_fraction": phase.drop_fraction,
           "peak_epoch": float(data.epochs[peak])}
    if data.null is not None:
        null = weights @ data.null
        out["null_drop_bits"] = float(null[peak] - null[-1])
        span = float(np.ptp(c))
        out["excess_fraction"] = (out["drop_bits"] - out["null_drop_bits"]) / span if span > 0 else 0.0
        out["null_drop_fraction"] = out["null_drop_bits"] / span if span > 0 else 0.0
        if data.star is not None:
            star = float(weights @ data.star)
            out["peak_above_c_star"] = float(c[peak] - star)
            out["null_peak_above_c_star"] = float(np.max(null) - star)
            out["beyond"] = bool(phase.verdict == Verdict.COMPRESSES
                                 and out["excess_fraction"] >= rule.min_drop
                                 and out["peak_above_c_star"] > out["null_peak_above_c_star"])
    return out


def _call(share: float, level: float) -> bool | None:
    """True when at least ``level`` of the resamples say yes, False when at most ``1 - level``."""
    if share >= level - 1e-12:
        return True
    if share <= 1 - level + 1e-12:
        return False
    return None


INTERVAL_NUMBERS = ("drop_fraction", "drop_bits", "peak_epoch", "null_drop_bits", "null_drop_fraction",
                    "excess_fraction", "peak_above_c_star", "null_peak_above_c_star")


def read_condition(data: _Seeds, rule: PhaseRule, seed_rule: SeedRule, n_samples: int | None) -> dict:
    """The seed reading of one condition x plane (module docstring) as a flat record."""
    n = len(data.seeds)
    point = _read(data, np.full(n, 1.0 / n), rule, n_samples)
    phase = point["phase"]
    record = {"n_seeds": n, "mean_verdict": phase.verdict, "complexity_range": phase.complexity_range,
              "noise_floor": phase.noise_floor}
    per_seed = [rule.verdict(data.complexity[i], data.prediction[i], data.steps, n_samples=n_samples,
                             saturated=data.saturated[i]).verdict for i in range(n)]
    record["seeds_compressing"] = f"{sum(v == Verdict.COMPRESSES for v in per_seed)}/{n}"
    record["seed_verdicts"] = ", ".join(per_seed)
    if n > 1:
        weights, counts = seed_rule.draws(n)
        reads = [_read(data, w, rule, n_samples) for w in weights]
        share = float(np.sum(counts * [r["phase"].verdict == Verdict.COMPRESSES for r in reads]) / counts.sum())
    else:
        reads, counts, share = [point], np.ones(1, dtype=int), float(phase.verdict == Verdict.COMPRESSES)
    tail = 100 * (1 - seed_rule.level) / 2
    for name in INTERVAL_NUMBERS:
        if name not in point:
            record.update({name: np.nan, f"{name}_low": np.nan, f"{name}_high": np.nan})
            continue
        values = np.repeat([r[name] for r in reads], counts)
        low, high = np.percentile(values, [tail, 100 - tail]) if n > 1 else (np.nan, np.nan)
        record.update({name: float(point[name]), f"{name}_low": float(low), f"{name}_high": float(high)})
    record["support"] = share
    # the verdict over seeds
    if phase.verdict in UNREAD or n == 1:
        verdict = phase.verdict
    else:
        call = _call(share, seed_rule.level)
        verdict = UNCERTAIN if call is None else (Verdict.COMPRESSES.value if call else (
            phase.verdict if phase.verdict != Verdict.COMPRESSES else Verdict.NO_COMPRESSION.value))
    record["run_drop_low"] = record["run_drop_high"] = np.nan
    if data.low is not None and verdict not in UNREAD:
        low, high = _run_interval(data.low, data.high, phase.peak_index)
        record["run_drop_low"], record["run_drop_high"] = low, high
        threshold = rule.min_drop * phase.complexity_range
        if verdict in (Verdict.COMPRESSES, Verdict.NO_COMPRESSION) and low < threshold < high:
            verdict = UNCERTAIN
    record["verdict"] = verdict
    # beyond the null, paired per seed
    beyond: str | None = None
    if "beyond" in point:
        if verdict == UNCERTAIN:
            beyond = UNCERTAIN
        elif verdict != Verdict.COMPRESSES:
            beyond = "no"
        elif n == 1:
            beyond = "yes" if point["beyond"] else "no"
        else:
            beyond_share = float(np.sum(counts * [bool(r.get("beyond")) for r in reads]) / counts.sum())
            call = _call(beyond_share, seed_rule.level)
            beyond = UNCERTAIN if call is None else ("yes" if call else "no")
    record["run_excess_low"] = record["run_excess_high"] = np.nan
    if data.difference_low is not None and beyond is not None:
        # the network's drop minus the null's, (C - N)[peak] - (C - N)[last], from the paired
        # within-run intervals of C - N
        low, high = _run_interval(data.difference_low, data.difference_high, phase.peak_index)
        record["run_excess_low"], record["run_excess_high"] = low, high
        if beyond in ("yes", "no") and verdict == Verdict.COMPRESSES and \
                low < rule.min_drop * phase.complexity_range < high:
            beyond = UNCERTAIN
    record["beyond_null"] = beyond
    return record


SEED_COLUMNS = ["condition", "plane", "n_seeds", "verdict", "support", "seeds_compressing", "drop_fraction",
                "drop_fraction_low", "drop_fraction_high", "drop_bits", "drop_bits_low", "drop_bits_high",
                "peak_epoch", "peak_epoch_low", "peak_epoch_high", "null_drop_fraction", "null_drop_fraction_low",
                "null_drop_fraction_high", "excess_fraction", "excess_fraction_low", "excess_fraction_high",
                "beyond_null", "mean_verdict", "seed_verdicts", "complexity_range", "noise_floor",
                "null_drop_bits", "null_drop_bits_low", "null_drop_bits_high", "peak_above_c_star",
                "peak_above_c_star_low", "peak_above_c_star_high", "null_peak_above_c_star",
                "null_peak_above_c_star_low", "null_peak_above_c_star_high", "run_drop_low", "run_drop_high",
                "run_excess_low", "run_excess_high"]


def seed_table(
    frame: pd.DataFrame,
    *,
    ib_layer: str | None = None,
    estimator: str | None = None,
    kind: str = "featurewise",
    gib_layer: str | None = None,
    conditions: Any = None,
    planes: Any = None,
    n_samples: int | None = None,
    rule: PhaseRule = DEFAULT_RULE,
    seed_rule: SeedRule = DEFAULT_SEED_RULE,
) -> pd.DataFrame:
    """Every condition's verdict over its seeds, with intervals (module docstring).

    Parameters
    ----------
    frame : DataFrame
        A tidy results frame (:mod:`gib.phases`), an experiment's or a Monitor's.
    ib_layer, estimator, kind, gib_layer
        Which trajectories (as for :func:`gib.phases.phase_table`).
    conditions, planes : optional
        Only these conditions / planes ("IB", "GIB"); by default all the frame holds.
    n_samples : int, optional
        Probe size for the rule's default noise floor; by default the frame's ``n_probe`` rows.
    rule, seed_rule
        The phase rule and the seed rule.

    Returns
    -------
    DataFrame
        One row per condition x plane (:data:`SEED_COLUMNS`): ``verdict`` over seeds (the phase
        rule's verdicts or ``"uncertain"``), ``support`` (the share of seed resamples that
        compress), ``seeds_compressing`` (seeds whose own trajectory compresses, "k/n"), the
        point value and the ``_low``/``_high`` interval of ``drop_fraction``, ``drop_bits``,
        ``peak_epoch`` and, for GIB with the null recorded, ``null_drop_bits`` and
        ``null_drop_fraction`` (the null's drop from the network's peak step to the last, in bits
        and as a share of the network's complexity range), ``excess_fraction`` (the network's
        drop minus the null's, paired per seed, as that share), ``peak_above_c_star`` and
        ``null_peak_above_c_star``; ``beyond_null`` ("yes", "no", "uncertain", None where the
        null or C* is not recorded); ``mean_verdict`` (the rule on the seed average) and
        ``seed_verdicts``; ``run_drop_low``/``run_drop_high``, the drop's within-run interval
        where bootstrap rows were recorded, and ``run_excess_low``/``run_excess_high``, the
        within-run interval of the network's drop minus the null's in bits (from the paired
        ``null_difference_low``/``_high`` rows). Intervals over seeds are NaN with one seed.
    """
    frame = check_frame(frame)
    chosen_planes = planes_in(frame) if planes is None else [planes] if isinstance(planes, str) else list(planes)
    records = []
    for condition in conditions_in(frame, conditions):
        size = n_samples if n_samples is not None else probe_size(frame, condition)
        for plane in chosen_planes:
            choices = plane_choices(plane, condition, ib_layer, gib_layer, estimator, kind)
            data = _seed_arrays(frame, plane, choices)
            if data.complexity is None or data.prediction is None or len(data.steps) == 0:
                raise ValueError(f"condition {condition!r}, {plane}: no record step holds every seed's complexity "
                                 "and prediction; a seed reading needs the seeds on common record steps.")
            records.append({"condition": condition, "plane": plane,
                            **read_condition(data, rule, seed_rule, size)})
    return pd.DataFrame.from_records(records, columns=SEED_COLUMNS).astype({"beyond_null": object})


# -- claims ------------------------------------------------------------------------------------
def claim_call(table: pd.DataFrame, expected: Mapping[tuple[str, str], bool]) -> bool | None:
    """Whether a claim holds (True), fails (False) or is uncertain (None), from a
    :func:`seed_table` and what the claim expects of each (condition, plane) (module docstring,
    step 4)."""
    rows = table.set_index(["condition", "plane"])
    fails = unsure = False
    for key, wanted in expected.items():
        if key not in rows.index:
            raise KeyError(f"the seed table has no row for condition {key[0]!r}, plane {key[1]!r}.")
        verdict = rows.loc[key, "verdict"]
        if verdict == UNCERTAIN or verdict in UNREAD:
            unsure = True
        elif (verdict == Verdict.COMPRESSES) != wanted:
            fails = True
    return False if fails else (None if unsure else True)


def beyond_call(table: pd.DataFrame, conditions: list[str], plane: str = "GIB") -> bool | str | None:
    """Whether every one of ``conditions`` goes beyond the null: True, False when one does not,
    ``"uncertain"`` when none fails and some are uncertain, None where a condition has no null
    reading (not measured)."""
    rows = table[table["plane"] == plane].set_index("condition")
    calls = [rows.loc[c, "beyond_null"] if c in rows.index else None for c in conditions]
    if not calls or any(pd.isna(call) for call in calls):
        return None
    if any(call == "no" for call in calls):
        return False
    return True if all(call == "yes" for call in calls) else UNCERTAIN


def interval_text(value: float, low: float, high: float, percent: bool, digits: int = 3) -> str:
    """``"22% [19%, 26%]"`` (a share, ``percent``) or ``"0.0247 [0.0217, 0.0278]"`` (``digits``
    significant digits); the value alone without an interval, ``"-"`` without a value."""
    show = (lambda x: f"{100 * x:.0f}%") if percent else (lambda x: f"{x:.{digits}g}")
    if pd.isna(value):
        return "-"
    if pd.isna(low):
        return show(value)
    return f"{show(value)} [{show(low)}, {show(high)}]"


def condition_text(row: Any) -> str:
    """One condition's reading in a phrase: verdict, drop with its interval, seeds."""
    verdict = row["verdict"]
    text = f"{row['condition']} {verdict}"
    if verdict in UNREAD:
        return text
    details = [f"drop {interval_text(row['drop_fraction'], row['drop_fraction_low'], row['drop_fraction_high'], True)}"
               " of range"]
    if row["n_seeds"] > 1:
        details.append(f"{row['support']:.0%} of resamples compress, {row['seeds_compressing']} seeds")
    else:
        details.append("1 seed")
    if row["mean_verdict"] not in (verdict, Verdict.COMPRESSES) and verdict == UNCERTAIN:
        details.append(f"mean: {row['mean_verdict']}")
    return f"{text} ({'; '.join(details)})"


def plane_text(table: pd.DataFrame, plane: str, conditions: list[str] | None = None) -> str:
    """The conditions of one plane grouped by verdict: ``"compresses: a, b; uncertain: c (62%)"``."""
    rows = table[table["plane"] == plane]
    if conditions is not None:
        rows = rows.set_index("condition").loc[conditions].reset_index()
    groups: dict[str, list[str]] = {}
    for row in rows.to_dict("records"):
        name = row["condition"]
        if row["verdict"] == UNCERTAIN:
            name += f" ({row['support']:.0%})"
        groups.setdefault(row["verdict"], []).append(name)
    order = [Verdict.COMPRESSES.value, UNCERTAIN, *[v.value for v in Verdict if v != Verdict.COMPRESSES]]
    return "; ".join(f"{verdict} {', '.join(groups[verdict])}" for verdict in order if verdict in groups) or "none"


def null_text(table: pd.DataFrame, conditions: list[str], plane: str = "GIB") -> str:
    """Per condition, the network's drop and the null's (paired per seed) as shares of the
    network's complexity range, with their intervals, and the beyond-the-null reading."""
    rows = table[table["plane"] == plane].set_index("condition")
    parts = []
    for condition in conditions:
        if condition not in rows.index or pd.isna(rows.loc[condition, "beyond_null"]):
            parts.append(f"{condition} not measured")
            continue
        row = rows.loc[condition]
        excess = interval_text(row["excess_fraction"], row["excess_fraction_low"], row["excess_fraction_high"], True)
        null = interval_text(row["null_drop_fraction"], row["null_drop_fraction_low"],
                              row["null_drop_fraction_high"], True)
        parts.append(f"{condition} {row['beyond_null']} (null's drop {null}, network minus null {excess})")
    return "beyond the null: " + "; ".join(parts)
