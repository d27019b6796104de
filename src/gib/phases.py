"""The phase rule of information-plane trajectories (SPEC 2, "Phases") and its seed aggregation.

A rule is one frozen object, :class:`PhaseRule`: its fields are the thresholds, :meth:`PhaseRule.verdict`
reads one trajectory, and :meth:`PhaseRule.describe` writes the sentence every report prints, from
the same fields, so that what a report says about the rule is what the code applies.
:func:`compression_phase` is the rule with its thresholds as keywords (:data:`DEFAULT_RULE` by
default).

The seed aggregation reads a tidy results frame (one row per value, with columns
``condition``, ``seed``, ``step``, ``epoch``, ``plane`` ("IB", "GIB" or "metric"), ``layer``,
``estimator``, ``kind``, ``measure`` and ``value``): :func:`trajectories` averages one
trajectory over seeds, :func:`phase_table` applies the rule to the seed-averaged trajectory of
every condition and plane and to each seed's own.
"""

from __future__ import annotations

import enum
import math
from dataclasses import asdict, dataclass, fields, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats

from ._validation import as_array, finite_bits, finite_series, fraction, one_of, positive_int

if TYPE_CHECKING:
    import pandas as pd


class Verdict(enum.StrEnum):
    """The verdicts of the phase rule; each compares equal to its text (``"compresses"``)."""

    COMPRESSES = "compresses"
    NO_COMPRESSION = "no compression"
    FLAT = "flat"
    SATURATED = "saturated"
    NO_FITTING_PHASE = "no fitting phase"
    TOO_FEW_RECORDS = "too few records"


#: the verdicts' texts, in the order of :class:`Verdict`
VERDICTS = tuple(v.value for v in Verdict)

#: verdicts of a trajectory the rule could not read (``CompressionPhase.compresses`` is None)
UNREAD = (Verdict.TOO_FEW_RECORDS, Verdict.SATURATED, Verdict.FLAT)


@dataclass(frozen=True)
class CompressionPhase:
    """Phase numbers of one trajectory (SPEC 2, "Phases"); fractions are of each axis' range.

    ``verdict`` is one of :data:`VERDICTS`. ``compresses`` is True or False only when the
    trajectory could be read: None for too few records, a ``"flat"`` trajectory (its whole
    range is below the noise floor) and a ``"saturated"`` one (the IB estimate sits at its
    ceiling).
    """

    peak_index: int  #: record step at which complexity peaks
    peak_step: float  #: the step (epoch) value there
    fitting_complexity_rise: float  #: (C[peak] - C[0]) / range(C)
    fitting_prediction_rise: float  #: (P[peak] - P[0]) / range(P)
    drop_fraction: float  #: (C[peak] - C[last]) / range(C)
    drop_bits: float  #: C[peak] - C[last], in bits
    rebound: float  #: largest climb back from a running minimum, once past the rebound line, / the deepest fall
    spearman: float  #: rank correlation of C with the step after the peak (reported, not a test)
    prediction_loss: float  #: (P[peak] - P[last]) / range(P)
    complexity_range: float  #: range(C) in bits
    noise_floor: float  #: bits; a range below it is "flat"
    saturated_fraction: float  #: share of the record steps flagged saturated
    verdict: str
    compresses: bool | None


# Ranges below this many bits are floating-point noise, not movement along an axis.
FLAT_RANGE = 1e-9


def default_noise_floor(n_samples: int | None) -> float:
    """One sample's worth of information, log2(N) / N bits (ours, SPEC 2): moving one of N
    samples changes a plug-in entropy by about that much. Without N, floating-point noise only."""
    if n_samples is None:
        return FLAT_RANGE
    n = positive_int(n_samples, "n_samples")
    return max(FLAT_RANGE, math.log2(n) / n) if n > 1 else FLAT_RANGE


def _spread(x: np.ndarray) -> float:
    r = float(np.max(x) - np.min(x))
    return r if r > FLAT_RANGE else 1.0


def _percent(value: float) -> str:
    return f"{100 * value:.3g}%"


def _bits_text(value: float) -> str:
    return f"{value:.3g} bits"


@dataclass(frozen=True)
class PhaseRule:
    """The compression-phase rule (SPEC 2, "Phases"; thresholds ours).

    A compression phase is present when complexity C peaks after the first record and before the
    last ``last_fraction`` of the records, ends at least ``min_drop`` of its range below the peak,
    the fall is sustained, and prediction P loses at most ``max_prediction_loss`` of its range.
    Sustained: once C has fallen to the rebound line ``C[peak] - rebound * (C[peak] - min C after
    the peak)``, no later point climbs back above that line by more than the tolerance. The
    Spearman correlation of C with the step after the peak is reported, not used (ties on a
    plateau make it meaningless). :meth:`describe` gives every clause in words.

    Parameters
    ----------
    last_fraction, min_drop, rebound, max_prediction_loss : float in [0, 1]
    noise_floor : float, optional
        Bits. A trajectory whose whole complexity range is below it is ``"flat"``, and a
        prediction loss below it counts as none. Default (None): ``log2(N) / N`` for the N probe
        samples a trajectory was estimated on (one sample's worth), floating-point noise
        (:data:`FLAT_RANGE`) when N is not known.
    tolerance : float, optional
        Bits a plateau may wiggle above the rebound line; default (None) the noise floor.
    max_saturated : float in [0, 1]
        A trajectory with more than this share of its records flagged saturated (>= 0.5 per
        record: the share of seeds) is ``"saturated"``.
    min_records : int
        Fewer records than this give ``"too few records"``: a fitting phase, a peak and a fall
        need at least three.
    """

    last_fraction: float = 0.1
    min_drop: float = 0.1
    rebound: float = 0.5
    max_prediction_loss: float = 0.1
    noise_floor: float | None = None
    tolerance: float | None = None
    max_saturated: float = 0.5
    min_records: int = 3

    def __post_init__(self) -> None:
        for name in ("last_fraction", "min_drop", "rebound", "max_prediction_loss", "max_saturated"):
            object.__setattr__(self, name, fraction(getattr(self, name), name))
        for name in ("noise_floor", "tolerance"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, finite_bits(getattr(self, name), name))
        object.__setattr__(self, "min_records", positive_int(self.min_records, "min_records"))

    def floor(self, n_samples: int | None = None) -> float:
        """The noise floor in bits for a trajectory estimated on ``n_samples`` probe samples."""
        return default_noise_floor(n_samples) if self.noise_floor is None else self.noise_floor

    def verdict(self, complexity: Any, prediction: Any, steps: Any = None, *, n_samples: int | None = None,
                saturated: Any = None) -> CompressionPhase:
        """Read a compression phase off one trajectory.

        Parameters
        ----------
        complexity, prediction : array (T,)
            The trajectory in bits, one value per record step (at least one; fewer than
            ``min_records`` give the verdict ``"too few records"``).
        steps : array (T,), optional
            The record steps (epochs); default 0..T-1.
        n_samples : int, optional
            The number of probe samples the estimates were made on (sets the default noise floor).
        saturated : array (T,) of bool or float, optional
            Per-step saturation flags of an IB trajectory (or the share of seeds flagged).

        Returns
        -------
        CompressionPhase
        """
        c = finite_series(complexity, "complexity")
        p = finite_series(prediction, "prediction")
        if len(c) != len(p):
            raise ValueError(f"`complexity` has {len(c)} values and `prediction` {len(p)}; they must match.")
        if len(c) == 0:
            raise ValueError("`complexity` is empty; a trajectory needs at least one record step.")
        s = np.arange(len(c), dtype=float) if steps is None else finite_series(steps, "steps")
        if len(s) != len(c):
            raise ValueError(f"`steps` has {len(s)} values and `complexity` {len(c)}; they must match.")
        floor = self.floor(n_samples)
        tolerance = floor if self.tolerance is None else self.tolerance
        if saturated is None:
            flagged = 0.0
        else:
            flags = finite_series(saturated, "saturated")
            if len(flags) != len(c):
                raise ValueError(f"`saturated` has {len(flags)} values and `complexity` {len(c)}; they must match.")
            flagged = float(np.mean(flags >= 0.5))

        peak = int(np.argmax(c))
        rc, rp = _spread(c), _spread(p)
        after = c[peak:]
        # no rank correlation with a constant series (steps included: they may repeat)
        ranked = len(after) >= 3 and np.ptp(after) > 0 and np.ptp(s[peak:]) > 0
        rho = float(stats.spearmanr(s[peak:], after).statistic) if ranked else float("nan")
        fall = float(c[peak] - c[-1])
        deepest = float(c[peak] - np.min(after))
        if fall > 0:
            line = c[peak] - self.rebound * deepest
            crossed = after[int(np.argmax(after <= line)):]  # from the first point at or below the line
            rebound_value = float(np.max(crossed - np.minimum.accumulate(crossed)) / deepest)
            sustained = bool(np.max(crossed) <= line + tolerance)
        else:
            rebound_value, sustained = float("nan"), False
        loss_bits = float(p[peak] - p[-1])
        early = peak < len(c) - max(1, int(round(self.last_fraction * len(c))))
        keeps_prediction = loss_bits <= max(self.max_prediction_loss * rp, floor)
        if len(c) < self.min_records:
            verdict = Verdict.TOO_FEW_RECORDS
        elif flagged > self.max_saturated:
            verdict = Verdict.SATURATED
        elif float(np.ptp(c)) < floor:
            verdict = Verdict.FLAT
        elif peak == 0:
            verdict = Verdict.NO_FITTING_PHASE
        elif early and fall / rc >= self.min_drop and sustained and keeps_prediction:
            verdict = Verdict.COMPRESSES
        else:
            verdict = Verdict.NO_COMPRESSION
        return CompressionPhase(
            peak_index=peak,
            peak_step=float(s[peak]),
            fitting_complexity_rise=float((c[peak] - c[0]) / rc),
            fitting_prediction_rise=float((p[peak] - p[0]) / rp),
            drop_fraction=float(fall / rc),
            drop_bits=fall,
            rebound=rebound_value,
            spearman=rho,
            prediction_loss=float(loss_bits / rp),
            complexity_range=float(np.ptp(c)),
            noise_floor=floor,
            saturated_fraction=flagged,
            verdict=verdict.value,
            compresses=None if verdict in UNREAD else verdict == Verdict.COMPRESSES,
        )

    def describe(self) -> str:
        """The rule in words, every clause with this rule's numbers: the sentence reports print."""
        if self.noise_floor is None:
            floor = ("the noise floor (one probe sample's worth, log2(N) / N bits for N probe samples; "
                     f"{_bits_text(FLAT_RANGE)}, floating-point noise, when N is not known)")
        else:
            floor = f"the noise floor ({_bits_text(self.noise_floor)})"
        tolerance = "the noise floor" if self.tolerance is None else _bits_text(self.tolerance)
        return (
            "`verdict` reads the trajectory of complexity C and prediction P, one value per record, "
            "by the first of these that applies: "
            f"*{Verdict.TOO_FEW_RECORDS}* with fewer than {self.min_records} records; "
            f"*{Verdict.SATURATED}* when more than {_percent(self.max_saturated)} of the records are "
            "flagged (for at least half of the seeds) at the IB estimator's ceiling; "
            f"*{Verdict.FLAT}* when the whole range of C is below {floor}; "
            f"*{Verdict.NO_FITTING_PHASE}* when C peaks at the first record; "
            f"*{Verdict.COMPRESSES}* when C peaks before the last {_percent(self.last_fraction)} of the "
            f"records (and before the last record), ends at least {_percent(self.min_drop)} of its range "
            f"below the peak, and once it has fallen to the rebound line (the peak minus "
            f"{_percent(self.rebound)} of the deepest fall after it) never climbs back above that line "
            f"by more than {tolerance} (a flat or noisy plateau is sustained), while P loses at most "
            f"{_percent(self.max_prediction_loss)} of its range from the peak to the last record, a loss "
            "of at most the noise floor in bits counting as none; "
            f"*{Verdict.NO_COMPRESSION}* otherwise. `rebound` is the largest climb back from a running "
            "minimum after the line is reached, as a share of the deepest fall; `spearman`, the rank "
            "correlation of C with the step after the peak, is reported, not used."
        )

    def with_thresholds(self, **thresholds: Any) -> PhaseRule:
        """This rule with some thresholds changed (the keywords of :func:`compression_phase`)."""
        names = {f.name for f in fields(self)}
        unknown = sorted(set(thresholds) - names)
        if unknown:
            raise TypeError(f"unknown phase-rule threshold(s) {unknown}; the rule's thresholds: {sorted(names)}.")
        return replace(self, **thresholds) if thresholds else self


#: the rule every report and figure applies
DEFAULT_RULE = PhaseRule()


def compression_phase(
    complexity: Any,
    prediction: Any,
    steps: Any = None,
    *,
    last_fraction: float = 0.1,
    min_drop: float = 0.1,
    rebound: float = 0.5,
    max_prediction_loss: float = 0.1,
    noise_floor: float | None = None,
    n_samples: int | None = None,
    tolerance: float | None = None,
    saturated: Any = None,
    max_saturated: float = 0.5,
) -> CompressionPhase:
    """Read a compression phase off a trajectory: :meth:`gib.phases.PhaseRule.verdict` of the rule
    with these thresholds (:meth:`gib.phases.PhaseRule.describe` states every clause).

    Parameters
    ----------
    complexity, prediction : array (T,)
        The trajectory in bits, one value per record step (fewer than 3 give the verdict
        ``"too few records"``).
    steps : array (T,), optional
        The record steps (epochs); default 0..T-1.
    last_fraction, min_drop, rebound, max_prediction_loss, noise_floor, tolerance, max_saturated
        The thresholds of :class:`PhaseRule`.
    n_samples : int, optional
        The number of probe samples the estimates were made on (sets the default noise floor).
    saturated : array (T,) of bool or float, optional
        Per-step saturation flags of an IB trajectory (or the share of seeds flagged).

    Returns
    -------
    CompressionPhase
    """
    rule = PhaseRule(last_fraction=last_fraction, min_drop=min_drop, rebound=rebound,
                     max_prediction_loss=max_prediction_loss, noise_floor=noise_floor, tolerance=tolerance,
                     max_saturated=max_saturated)
    return rule.verdict(complexity, prediction, steps, n_samples=n_samples, saturated=saturated)


def normalise(values: Any) -> np.ndarray:
    """Scale a trajectory to [0, 1] as the paper's planes do (a flat one, within ``FLAT_RANGE``
    bits, maps to 0)."""
    arr = as_array(values, "values")
    x = finite_series(arr, "values").reshape(arr.shape)
    lo, hi = np.min(x), np.max(x)
    return (x - lo) / (hi - lo) if hi - lo > FLAT_RANGE else np.zeros_like(x)


# -- trajectories of a results frame, averaged over seeds ------------------------------------
FRAME_COLUMNS = ("condition", "seed", "step", "epoch", "plane", "layer", "estimator", "kind", "measure", "value")
PLANES = ("IB", "GIB")


def check_frame(frame: Any) -> pd.DataFrame:
    """The results frame with ``condition`` and ``seed`` filled in for a Monitor's own (one run),
    or a ValueError naming the missing columns."""
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"`frame` must be a pandas DataFrame, got {type(frame).__name__}.")
    # a Monitor's own frame is one run: one condition (""), one seed (0)
    if "condition" not in frame.columns:
        frame = frame.assign(condition="")
    if "seed" not in frame.columns:
        frame = frame.assign(seed=0)
    missing = [c for c in FRAME_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(
            f"`frame` lacks the column(s) {', '.join(map(repr, missing))}; a results frame has "
            f"one row per value with columns {', '.join(FRAME_COLUMNS)}."
        )
    return frame


def listed(values: Any) -> str:
    """The distinct values, sorted and quoted, for an error message."""
    import pandas as pd

    return ", ".join(repr(v) for v in sorted(pd.unique(values), key=str))


def select_rows(rows: pd.DataFrame, where: str, choices: dict[str, tuple[Any, str]]) -> pd.DataFrame:
    """Narrow ``rows`` column by column; ``choices`` maps a column to (value, argument name).

    A column left with several values and no choice is an ambiguity: say which values exist and
    which argument picks one.
    """
    for column, (value, argument) in choices.items():
        present = rows[column]
        if value is not None:
            if not (present == value).any():
                raise ValueError(
                    f"no {where} rows with {column} {value!r}; present: {listed(present)}. "
                    f"Pass one of them as `{argument}=`."
                )
            rows = rows[present == value]
        elif present.nunique() > 1:
            raise ValueError(
                f"the {where} rows hold {present.nunique()} values of `{column}` "
                f"({listed(present)}); choose one with `{argument}=`."
            )
    return rows


def trajectory_of(frame: pd.DataFrame, plane: str, choices: dict[str, tuple[Any, str]],
                  seed: int | None = None) -> pd.DataFrame:
    """The per-step table of one plane's trajectory (:func:`trajectories`) from a checked frame,
    selected by ``choices`` (as for :func:`select_rows`), averaged over seeds unless one is chosen."""
    one_of(plane, "plane", PLANES)
    rows = frame[(frame["plane"] == plane) & frame["measure"].isin(("complexity", "prediction"))]
    if rows.empty:
        raise ValueError(
            f"`frame` has no {plane} complexity/prediction rows; planes present: "
            f"{listed(frame['plane']) or 'none'}."
        )
    rows = select_rows(rows, plane, choices)
    if seed is not None:
        rows = select_rows(rows, plane, {"seed": (seed, "seed")})
    measures = set(rows["measure"])
    if measures != {"complexity", "prediction"}:
        raise ValueError(f"the selected {plane} rows hold only {sorted(measures)}; a plane needs both.")
    if rows.duplicated(["seed", "step", "measure"]).any():
        raise ValueError(
            f"the selected {plane} rows hold several values per seed, step and measure; "
            "drop duplicate rows first."
        )
    per_seed = rows.pivot_table(index=["step", "seed"], columns="measure", values="value", aggfunc="first")
    per_seed["epoch"] = rows.groupby(["step", "seed"])["epoch"].first()
    grouped = per_seed.groupby(level="step")
    table = grouped[["epoch", "complexity", "prediction"]].mean()
    spread = grouped[["complexity", "prediction"]].std(ddof=1).fillna(0.0)
    table["complexity_std"], table["prediction_std"] = spread["complexity"], spread["prediction"]
    table["n_seeds"] = grouped.size()
    table["saturated"] = _saturated_fraction(frame, plane, rows, per_seed.index)
    table = table.dropna(subset=["complexity", "prediction"]).reset_index()
    table["epoch"] = table["epoch"].fillna(table["step"].astype(float))
    table.columns.name = None
    return table[["step", "epoch", "complexity", "prediction", "complexity_std", "prediction_std", "n_seeds",
                  "saturated"]]


def _saturated_fraction(frame: pd.DataFrame, plane: str, rows: pd.DataFrame, index: pd.MultiIndex) -> pd.Series:
    """Per step, the fraction of seeds whose point is flagged ``saturated`` (the Monitor's rows);
    a seed without a flag (GIB, frames recorded before the flags) counts as not saturated."""
    import pandas as pd

    flags = frame[(frame["plane"] == plane) & (frame["measure"] == "saturated")]
    # the same trajectory as the selected complexity/prediction rows
    for column in ("condition", "layer", "estimator", "kind"):
        flags = flags[flags[column].isin(pd.unique(rows[column]))]
    flagged = flags.groupby(["step", "seed"])["value"].first() >= 0.5
    per_seed = flagged.reindex(index, fill_value=False).astype(float)
    return per_seed.groupby(level="step").mean()


def trajectories(
    frame: pd.DataFrame,
    plane: str,
    *,
    condition: str | None = None,
    layer: str | None = None,
    estimator: str | None = None,
    kind: str | None = None,
    seed: int | None = None,
) -> pd.DataFrame:
    """One information-plane trajectory as a per-step table.

    Parameters
    ----------
    frame : DataFrame
        The tidy results frame (module docstring).
    plane : {"IB", "GIB"}
    condition, layer, estimator, kind : str, optional
        Which trajectory. Each may be left out when the selected rows hold a single value of it;
        otherwise a ValueError lists the values present and the argument to pass.
    seed : int, optional
        One seed's trajectory; by default the mean over seeds at each step.

    Returns
    -------
    DataFrame
        Columns ``step``, ``epoch``, ``complexity``, ``prediction`` (means over seeds),
        ``complexity_std``, ``prediction_std`` (spread over seeds, 0 for one seed),
        ``n_seeds`` and ``saturated`` (the fraction of seeds whose IB point is flagged
        saturated at that step; 0 where the frame has no ``saturated`` rows), one row per step
        in step order.
    """
    choices = {
        "condition": (condition, "condition"),
        "layer": (layer, "layer"),
        "estimator": (estimator, "estimator"),
        "kind": (kind, "kind"),
    }
    return trajectory_of(check_frame(frame), plane, choices, seed)


def plane_choices(plane: str, condition, ib_layer, gib_layer, estimator, kind) -> dict[str, tuple[Any, str]]:
    """Map the figure and table functions' arguments to the frame's columns, per plane."""
    layer = (ib_layer, "ib_layer") if plane == "IB" else (gib_layer, "gib_layer")
    choices = {"condition": (condition, "condition"), "layer": layer, "estimator": (estimator, "estimator")}
    if plane == "GIB":
        choices["kind"] = (kind, "kind")
    return choices


def planes_in(frame: pd.DataFrame) -> list[str]:
    """The planes ("IB", "GIB") the frame holds rows of, or a ValueError when it holds neither."""
    planes = [p for p in PLANES if (frame["plane"] == p).any()]
    if not planes:
        raise ValueError(f"`frame` has no IB or GIB rows; planes present: {listed(frame['plane']) or 'none'}.")
    return planes


def conditions_in(frame: pd.DataFrame, conditions: Any = None) -> list[str]:
    """The frame's conditions (sorted), or the chosen ones after checking that the frame holds them."""
    import pandas as pd

    present = sorted(pd.unique(frame.loc[frame["plane"].isin(PLANES), "condition"]), key=str)
    if conditions is None:
        return present
    chosen = [conditions] if isinstance(conditions, str) else list(conditions)
    unknown = [c for c in chosen if c not in present]
    if unknown or not chosen:
        raise ValueError(
            f"`conditions` {unknown or chosen!r} not in the frame; present: {', '.join(map(repr, present))}."
        )
    return chosen


def probe_size(frame: pd.DataFrame, condition: Any = None) -> int | None:
    """The probe set's size N as the Monitor recorded it (metric rows ``n_probe``), or None."""
    rows = frame[(frame["plane"] == "metric") & (frame["measure"] == "n_probe")]
    if condition is not None:
        rows = rows[rows["condition"] == condition]
    return int(rows["value"].max()) if len(rows) else None


def _seeds_of(frame: pd.DataFrame, plane: str, choices: dict[str, tuple[Any, str]]) -> list:
    import pandas as pd

    rows = frame[(frame["plane"] == plane) & frame["measure"].isin(("complexity", "prediction"))]
    for column, (value, _) in choices.items():
        if value is not None:
            rows = rows[rows[column] == value]
    return sorted(pd.unique(rows["seed"]), key=str)


def phase_of(trajectory: pd.DataFrame, rule: PhaseRule = DEFAULT_RULE,
             n_samples: int | None = None) -> CompressionPhase:
    """``rule.verdict`` of a per-step table of :func:`trajectories` (its saturation flags included)."""
    saturated = trajectory["saturated"] if "saturated" in trajectory.columns else None
    return rule.verdict(trajectory["complexity"], trajectory["prediction"], trajectory["step"],
                        n_samples=n_samples, saturated=saturated)


def phase_table(
    frame: pd.DataFrame,
    *,
    ib_layer: str | None = None,
    estimator: str | None = None,
    kind: str = "featurewise",
    gib_layer: str | None = None,
    n_samples: int | None = None,
    rule: PhaseRule | None = None,
    **thresholds: Any,
) -> pd.DataFrame:
    """Compression-phase numbers (SPEC 2) of every condition, seed-averaged and per seed.

    Parameters
    ----------
    frame : DataFrame
        The tidy results frame (module docstring).
    ib_layer : str, optional
        The IB layer (required when the frame holds several).
    estimator : str, optional
        The estimator (required when the frame holds several).
    kind : {"featurewise", "sum_vs_whole"}
        The GIB complexity.
    gib_layer : str, optional
        The GIB feature set (required when the frame holds several).
    n_samples : int, optional
        Probe size for the default noise floor; by default the frame's ``n_probe`` metric rows.
    rule : PhaseRule, optional
        The rule; default :data:`DEFAULT_RULE`.
    **thresholds
        Thresholds changed from ``rule``'s (``min_drop=0.2``, ``noise_floor=...``).

    Returns
    -------
    DataFrame
        One row per condition x plane: ``condition``, ``plane``, ``n_seeds``, ``peak_epoch``, the
        :class:`CompressionPhase` fields of the seed-averaged trajectory (``verdict``,
        ``drop_fraction``, ``drop_bits``, ``rebound``, ``spearman``, ...; ``peak_step`` is the
        frame's step at the complexity peak), and the per-seed reading: ``seeds_compressing``
        ("k/n": seeds whose own trajectory compresses), ``seed_verdicts`` (each seed's verdict,
        in seed order), ``drop_fraction_sd`` and ``peak_epoch_sd`` (spread over seeds, 0 for one).
    """
    import pandas as pd

    rule = (DEFAULT_RULE if rule is None else rule).with_thresholds(**thresholds)
    frame = check_frame(frame)
    records = []
    for condition in conditions_in(frame):
        size = n_samples if n_samples is not None else probe_size(frame, condition)
        for plane in planes_in(frame):
            choices = plane_choices(plane, condition, ib_layer, gib_layer, estimator, kind)
            trajectory = trajectory_of(frame, plane, choices)
            phase = phase_of(trajectory, rule, size)
            per_seed = []
            for seed in _seeds_of(frame, plane, choices):
                one = trajectory_of(frame, plane, choices, seed)
                per_seed.append((phase_of(one, rule, size), one))
            drops = np.array([p.drop_fraction for p, _ in per_seed])
            peaks = np.array([float(t["epoch"].iloc[p.peak_index]) for p, t in per_seed])
            compressing = sum(p.verdict == Verdict.COMPRESSES for p, _ in per_seed)
            records.append(
                {
                    "condition": condition,
                    "plane": plane,
                    "n_seeds": int(trajectory["n_seeds"].max()),
                    "peak_epoch": float(trajectory["epoch"].iloc[phase.peak_index]),
                    **asdict(phase),
                    "seeds_compressing": f"{compressing}/{len(per_seed)}",
                    "seed_verdicts": ", ".join(p.verdict for p, _ in per_seed),
                    "drop_fraction_sd": float(np.std(drops, ddof=1)) if len(drops) > 1 else 0.0,
                    "peak_epoch_sd": float(np.std(peaks, ddof=1)) if len(peaks) > 1 else 0.0,
                }
            )
    return pd.DataFrame.from_records(records)
