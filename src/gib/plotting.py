"""Information planes and summary figures from a tidy results frame (SPEC 2).

Every figure function takes data and returns a :class:`matplotlib.figure.Figure` built without
pyplot, so nothing leaks into a global figure registry; the caller decides where it goes
(``fig.savefig(...)``).

The frame holds one row per value, with columns ``condition``, ``seed``, ``step``, ``epoch``,
``plane`` ("IB", "GIB" or "metric"), ``layer`` (IB: the layer; GIB: the feature set),
``estimator``, ``kind`` (GIB: "featurewise" or "sum_vs_whole"; IB: ""), ``measure`` and ``value``
(bits for IB and GIB rows).

Points are coloured by epoch, dark early to light late; the colour scale is logarithmic when the
records are log-spaced (median epoch below a tenth of the last, over two decades), else linear.

A panel shows its subject: the limits are the network trajectory's own; references (C*, the
null) are clipped to them and marked on the edge they leave by; an axis whose range is below the
noise floor, and a saturated trajectory, are drawn in raw bits; notes and legends sit outside the
data. The seed-averaged trajectories and the phase rule's verdicts come from :mod:`gib.phases`
(:func:`gib.phases.trajectories`, :func:`gib.phases.phase_table`, also importable from here).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Colormap, ListedColormap, LogNorm, Normalize, SymLogNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from .phases import (DEFAULT_RULE, FLAT_RANGE, FRAME_COLUMNS, PLANES, CompressionPhase, PhaseRule, Verdict,
                     check_frame, conditions_in, listed, phase_of, phase_table, plane_choices, planes_in, probe_size,
                     select_rows, trajectories, trajectory_of)

PLANE_COLORMAPS = {"IB": "Blues", "GIB": "RdPu"}
AXIS_LABELS = {
    "IB": ("I(X;T)", "I(T;Y)"),
    ("GIB", "featurewise"): ("C = −S(X→Z)", "I(Ŷ;Y)"),
    ("GIB", "sum_vs_whole"): ("C = Σᵢ I(Xᵢ;Z) − I(X;Z)", "I(Ŷ;Y)"),
}
MARGIN = 0.05  # around the unit square of a normalised plane


# -- how a panel is scaled ----------------------------------------------------------------------
@dataclass(frozen=True)
class _Scale:
    """One axis of a panel: normalised to [0, 1] by the network trajectory's own range, or raw bits;
    ``limits`` come from the trajectory alone (references never widen them)."""

    normalised: bool
    lo: float
    spread: float
    limits: tuple[float, float]
    flat: bool  #: the trajectory's range on this axis is below the noise floor

    def map(self, values: Any) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        return (values - self.lo) / self.spread if self.normalised else values


def _scale(values: np.ndarray, normalise: bool, noise_floor: float) -> _Scale:
    """Normalised when asked and the range reaches the noise floor; a range below the floor is drawn
    in raw bits in a window of one noise floor either side, so that it reads as flat."""
    lo, hi = float(np.min(values)), float(np.max(values))
    spread = hi - lo
    flat = spread < noise_floor or spread <= FLAT_RANGE
    if normalise and not flat:
        return _Scale(True, lo, spread, (-MARGIN, 1 + MARGIN), flat)
    pad = max(noise_floor, FLAT_RANGE) if flat else MARGIN * spread
    return _Scale(False, 0.0, 1.0, (lo - pad, hi + pad), flat)


# -- drawing ------------------------------------------------------------------------------
def _early_dark(plane: str) -> Colormap:
    """The plane's colormap run from dark (earliest epoch) to light, never quite white."""
    base = colormaps[PLANE_COLORMAPS[plane]]
    return ListedColormap(base(np.linspace(0.95, 0.3, 256)), name=f"{base.name}_early_dark")


def _epoch_norm(*trajectories: pd.DataFrame) -> Normalize:
    epochs = np.concatenate([t["epoch"].to_numpy(float) for t in trajectories])
    lo, hi = float(np.min(epochs)), float(np.max(epochs))
    positive = epochs[epochs > 0]
    # records taken on a log grid (Saxe et al.) would be nearly all one colour on a linear scale
    if len(positive) and np.median(epochs) < 0.1 * hi and hi >= 100 * positive.min():
        return LogNorm(lo, hi) if lo > 0 else SymLogNorm(positive.min(), vmin=lo, vmax=hi, base=10)
    return Normalize(lo, hi if hi > lo else lo + 1.0)


def _raw_range(values: Any) -> str:
    values = np.asarray(values, dtype=float)
    return f"{values.min():#.3g} to {values.max():#.3g} bits"


SATURATED_NOTE = "hollow: at the estimator's ceiling"


def _draw_trajectory(ax, trajectory: pd.DataFrame, plane: str, norm: Normalize, x_scale: _Scale,
                     y_scale: _Scale) -> tuple[np.ndarray, np.ndarray]:
    """One trajectory: a thin connecting line, points coloured by epoch, seed spread as bars.

    Points saturated for most seeds (``saturated >= 0.5``) are drawn hollow, ringed in their
    epoch colour. The axis limits are the trajectory's own (``x_scale``, ``y_scale``).
    """
    c, p = trajectory["complexity"].to_numpy(float), trajectory["prediction"].to_numpy(float)
    x, y = x_scale.map(c), y_scale.map(p)
    # the spread scales with its trajectory's affine map
    xerr = trajectory["complexity_std"].to_numpy(float) / x_scale.spread
    yerr = trajectory["prediction_std"].to_numpy(float) / y_scale.spread
    cmap = _early_dark(plane)
    if trajectory["n_seeds"].max() > 1:
        ax.errorbar(
            x, y, xerr=xerr, yerr=yerr, fmt="none", ecolor=cmap(0.8), elinewidth=0.6, alpha=0.5, zorder=1
        )
    ax.plot(x, y, color=cmap(0.35), linewidth=0.8, alpha=0.7, zorder=2, gid="trajectory")
    epochs = trajectory["epoch"].to_numpy(float)
    hollow = trajectory["saturated"].to_numpy(float) >= 0.5 if "saturated" in trajectory else np.zeros(len(x), bool)
    # One collection keeps the epoch mapping (colour bar, get_array); a hollow point's epoch is
    # masked, so its face takes the colormap's transparent "bad" colour, and its edge is drawn.
    ax.scatter(
        x, y, c=np.where(hollow, np.nan, epochs), cmap=cmap.with_extremes(bad=(0.0, 0.0, 0.0, 0.0)), norm=norm,
        s=22, edgecolors=cmap(norm(epochs)), linewidths=np.where(hollow, 1.2, 0.0), plotnonfinite=True, zorder=3,
        gid="trajectory",
    )
    ax.set_xlim(*x_scale.limits)
    ax.set_ylim(*y_scale.limits)
    for axis, scale in ((ax.xaxis, x_scale), (ax.yaxis, y_scale)):
        if not scale.normalised:  # bits as they are: an offset (+1.049e1) would sit on the label
            axis.get_major_formatter().set_useOffset(False)
            axis.set_major_locator(MaxNLocator(nbins=4))  # long labels (-0.0075) need room
    ax.set_autoscale_on(False)  # what is drawn next (references) cannot move the limits
    ax.grid(True, linewidth=0.4, alpha=0.4)
    return x, y


# -- references of the GIB plane (SPEC 2, "References for the GIB plane") ---------------------
C_STAR_LABEL, NULL_LABEL = "C* (perfect predictor)", "null at the same accuracy"
#: marks on a panel's edge where a reference leaves it, by the side it leaves on
EDGE_MARKERS = {"left": "<", "right": ">", "bottom": "v", "top": "^"}


def _references(frame: pd.DataFrame, choices: dict[str, tuple[Any, str]]) -> tuple[float | None, pd.DataFrame | None]:
    """C* and the seed-averaged null trajectory recorded beside the selected GIB trajectory
    (``Monitor(null=...)``), or None for what the frame does not hold."""
    chosen = select_rows(frame[(frame["plane"] == "GIB") & (frame["measure"] == "complexity")], "GIB", choices)
    rows = frame[(frame["plane"] == "GIB") & frame["measure"].isin(("reference_complexity", "null_complexity",
                                                                    "null_prediction"))]
    for column in choices:  # the reference rows of exactly the selected trajectory
        rows = rows[rows[column].isin(pd.unique(chosen[column]))]
    stars = rows.loc[rows["measure"] == "reference_complexity", "value"]
    c_star = float(stars.mean()) if len(stars) else None
    null = rows[rows["measure"] != "reference_complexity"]
    if null.empty:
        return c_star, None
    null = null.assign(measure=null["measure"].str.removeprefix("null_"))
    return c_star, trajectory_of(null, "GIB", choices)


def _side(value: float, limits: tuple[float, float], low: str, high: str) -> str | None:
    return low if value < limits[0] else high if value > limits[1] else None


def _draw_references(ax, references, x_scale: _Scale, y_scale: _Scale) -> list[str]:
    """C* as a dashed vertical line and the null as a grey trajectory, mapped like the network's
    trajectory and clipped to its panel; a reference point outside the panel is marked on the edge
    it leaves by (a triangle pointing out). Returns caption lines on what left the panel."""
    c_star, null = references
    notes = []
    if null is not None:
        x, y = x_scale.map(null["complexity"]), y_scale.map(null["prediction"])
        ax.plot(x, y, color="0.6", linewidth=1.0, marker="o", markersize=2.5, alpha=0.9, zorder=1.5, gid="null")
        sides = [_side(a, x_scale.limits, "left", "right") or _side(b, y_scale.limits, "bottom", "top")
                 for a, b in zip(x, y)]
        outside = [i for i, side in enumerate(sides) if side]
        for side in sorted({sides[i] for i in outside}):
            at = [i for i in outside if sides[i] == side]
            ax.plot(np.clip(x[at], *x_scale.limits), np.clip(y[at], *y_scale.limits), linestyle="none",
                    marker=EDGE_MARKERS[side], markersize=5, color="0.45", clip_on=False, zorder=4.5,
                    gid="null-edge")
        if outside:
            notes.append(f"null: {len(outside)} of {len(x)} points off the panel")
    if c_star is not None:
        x_star = float(x_scale.map(c_star))
        side = _side(x_star, x_scale.limits, "left", "right")
        if side is None:
            ax.axvline(x_star, color="0.25", linestyle="--", linewidth=1.0, zorder=1.6, gid="c_star")
            notes.append(f"C* {c_star:#.3g} bits")
        else:
            edge = x_scale.limits[0] if side == "left" else x_scale.limits[1]
            ax.plot([edge], [y_scale.limits[1]], linestyle="none", marker=EDGE_MARKERS[side], markersize=7,
                    color="0.25", clip_on=False, zorder=4.5, gid="c_star-edge")
            notes.append(f"C* {c_star:#.3g} bits, off the panel ({EDGE_MARKERS[side]} {side})")
    return notes


def _ceilings(frame: pd.DataFrame, choices: dict[str, tuple[Any, str]]) -> tuple[float | None, float | None]:
    """The IB estimator's ceilings of the selected trajectory (the Monitor's ceiling rows), or None."""
    rows = frame[(frame["plane"] == "IB") & frame["measure"].isin(("complexity_ceiling", "prediction_ceiling"))]
    for column, (value, _) in choices.items():
        if value is not None:
            rows = rows[rows[column] == value]
    values = rows.groupby("measure")["value"].mean()
    return tuple(float(values[m]) if m in values.index else None for m in ("complexity_ceiling", "prediction_ceiling"))


def _rho(phase: CompressionPhase) -> str:
    # NaN when complexity peaks too late to have a trend after it
    return "n/a" if np.isnan(phase.spearman) else f"{phase.spearman:.2f}"


def _mark_peak(ax, x: np.ndarray, y: np.ndarray, phase: CompressionPhase) -> None:
    ax.plot(
        x[phase.peak_index], y[phase.peak_index], marker="o", markersize=11, markerfacecolor="none",
        markeredgecolor="black", markeredgewidth=1.0, linestyle="none", zorder=4, gid="peak",
    )


def _caption(ax, lines: Sequence[str], fontsize: float = 7.5) -> None:
    """Notes under the panel's x label, outside the data (the layout makes room for them)."""
    if lines:
        ax.annotate("\n".join(lines), xy=(0.5, 0.0), xycoords=ax.xaxis.label, xytext=(0, -2),
                    textcoords="offset points", ha="center", va="top", fontsize=fontsize, color="0.2",
                    gid="caption")


def _share(value: float) -> str:
    return "n/a" if np.isnan(value) else f"{value:.0%}"


#: verdicts under which the panel shows phase numbers (the others have no readable peak and fall)
READ = (Verdict.COMPRESSES, Verdict.NO_COMPRESSION)


def _verdict_line(phase: CompressionPhase, rule: PhaseRule) -> str:
    """The panel's verdict and, on a line of its own, what it rests on."""
    verdict = Verdict(phase.verdict)
    if verdict == Verdict.TOO_FEW_RECORDS:
        return f"{verdict}\na verdict needs {rule.min_records}"
    if verdict == Verdict.FLAT:
        return f"{verdict}\nC moves {phase.complexity_range:.2g} bits < noise floor {phase.noise_floor:.2g}"
    if verdict == Verdict.SATURATED:
        return f"{verdict}\n{phase.saturated_fraction:.0%} of records at the ceiling"
    if verdict == Verdict.NO_FITTING_PHASE:
        return f"{verdict}\nC peaks at the first record"
    return f"{verdict}\ndrop {phase.drop_fraction:.0%} ({phase.drop_bits:.2g} bits), rebound {_share(phase.rebound)}"


def _scale_notes(trajectory: pd.DataFrame, x_scale: _Scale, y_scale: _Scale, phase: CompressionPhase,
                 ceilings: tuple[float | None, float | None] = (None, None)) -> list[str]:
    """Caption lines: the raw ranges of normalised axes, why an axis is in raw bits."""
    notes = []
    for name, scale, values, ceiling in (("C", x_scale, trajectory["complexity"], ceilings[0]),
                                        ("P", y_scale, trajectory["prediction"], ceilings[1])):
        if scale.normalised:
            notes.append(f"{name}: raw {_raw_range(values)}")
        elif phase.verdict == Verdict.SATURATED:
            at = "" if ceiling is None or not np.isfinite(ceiling) else f", ceiling {ceiling:#.4g}"
            notes.append(f"{name} in bits{at}")
        elif scale.flat:
            notes.append(f"{name} in bits: range {np.ptp(values):.2g} below the noise floor")
    if "saturated" in trajectory and (trajectory["saturated"] >= 0.5).any():
        notes.append(SATURATED_NOTE)
    if phase.verdict == Verdict.SATURATED:
        notes.append("saturated: at its ceiling, it cannot move")
    return notes


def _axis_labels(ax, plane: str, kind: str, x_scale: _Scale, y_scale: _Scale) -> None:
    x_name, y_name = AXIS_LABELS["IB" if plane == "IB" else (plane, kind)]
    unit = {True: " (norm.)", False: " [bits]"}
    ax.set_xlabel(f"{plane} complexity {x_name}{unit[x_scale.normalised]}", fontsize=9)
    ax.set_ylabel(f"{plane} prediction {y_name}{unit[y_scale.normalised]}", fontsize=9)


def _layer_of(frame: pd.DataFrame, plane: str, choices: dict[str, tuple[Any, str]]) -> str:
    rows = frame[(frame["plane"] == plane) & (frame["measure"] == "complexity")]
    return str(select_rows(rows, plane, choices)["layer"].iloc[0])


def _panel_title(plane: str, layer: str, condition: str | None = None) -> str:
    where = f"layer {layer}" if plane == "IB" else f"features {layer}"
    return f"{condition}: {plane} {where}" if condition else f"{plane} plane, {where}"


def _draw_panel(ax, frame: pd.DataFrame, plane: str, choices: dict[str, tuple[Any, str]], condition: str | None,
                kind: str, norm: Normalize, normalise: bool, rule: PhaseRule, trajectory: pd.DataFrame,
                annotate: bool = True, title_condition: bool = False) -> None:
    """One information-plane panel: the trajectory filling it, references clipped, the verdict in
    the title, notes under the axes."""
    phase = phase_of(trajectory, rule, probe_size(frame, condition))
    saturated = phase.verdict == Verdict.SATURATED
    x_scale = _scale(trajectory["complexity"].to_numpy(float), normalise and not saturated, phase.noise_floor)
    y_scale = _scale(trajectory["prediction"].to_numpy(float), normalise and not saturated, phase.noise_floor)
    x, y = _draw_trajectory(ax, trajectory, plane, norm, x_scale, y_scale)
    notes = []
    if plane == "GIB":
        notes += _draw_references(ax, _references(frame, choices), x_scale, y_scale)
    ceilings = _ceilings(frame, choices) if plane == "IB" else (None, None)
    notes = _scale_notes(trajectory, x_scale, y_scale, phase, ceilings) + notes
    title = _panel_title(plane, _layer_of(frame, plane, choices), condition if title_condition else None)
    if annotate:
        if phase.verdict in READ + (Verdict.NO_FITTING_PHASE,):
            _mark_peak(ax, x, y, phase)
        if phase.verdict in READ:
            notes.append(f"C peaks at epoch {trajectory['epoch'].iloc[phase.peak_index]:.4g} (ring), ρ {_rho(phase)}")
            notes.append(f"P changes {round(-phase.prediction_loss, 2) + 0.0:+.0%} after the peak")
        title += "\n" + _verdict_line(phase, rule)
    ax.set_title(title, fontsize=8.5)
    _axis_labels(ax, plane, kind, x_scale, y_scale)
    _caption(ax, notes)


def _condition_label(condition: str) -> str:
    return condition if condition != "" else "one run"


def _reference_legend(fig, axes) -> None:
    """One legend of the references under the figure, outside every panel: the dashed C* line,
    the grey null, and the edge mark of a reference off the panel, for those drawn."""
    gids = {line.get_gid() for ax in axes for line in ax.get_lines()}
    entries = []
    if "null" in gids:
        entries.append((Line2D([], [], color="0.6", linewidth=1.0, marker="o", markersize=2.5), NULL_LABEL))
    if gids & {"c_star", "c_star-edge"}:
        entries.append((Line2D([], [], color="0.25", linestyle="--", linewidth=1.0), C_STAR_LABEL))
    if gids & {"null-edge", "c_star-edge"}:
        entries.append((Line2D([], [], color="0.45", linestyle="none", marker="<", markersize=5),
                        "reference off the panel (on its edge)"))
    if entries:
        handles, labels = zip(*entries)
        fig.legend(handles, labels, loc="outside lower center", ncol=len(entries), fontsize=8, frameon=False)


def information_plane(
    frame: pd.DataFrame,
    *,
    condition: str | None = None,
    ib_layer: str | None = None,
    estimator: str | None = None,
    kind: str = "featurewise",
    normalise: bool = True,
    annotate_phases: bool = True,
    gib_layer: str | None = None,
    title: str | None = None,
    rule: PhaseRule = DEFAULT_RULE,
) -> Figure:
    """The IB plane (blues) beside the GIB plane (pinks) of one condition, averaged over seeds.

    Points are coloured by epoch, dark early to light late, and joined in order; bars show the
    spread over seeds. Each panel's limits are its trajectory's own: with ``normalise`` each axis
    is scaled to [0, 1] as in the paper (the raw ranges under the panel), except an axis whose
    range is below the noise floor (drawn in raw bits around its values, so it reads as flat) and
    a saturated trajectory (drawn in raw bits, with the ceilings). With ``annotate_phases`` the
    title gives the verdict of ``rule`` (SPEC 2) and, where it read a phase, the complexity peak
    is ringed and its numbers are given under the panel. When the frame holds the GIB references
    (``Monitor(null=...)``), the GIB panel also shows C* as a dashed vertical line and the
    seed-averaged null as a grey trajectory, under the network's own scaling, clipped to the
    panel and marked on its edge where they leave it.

    Parameters
    ----------
    frame : DataFrame
        The tidy results frame (module docstring); a plane missing from it is left out.
    condition, ib_layer, estimator, gib_layer : str, optional
        Which trajectories; needed only when the frame holds several values.
    kind : {"featurewise", "sum_vs_whole"}
        The GIB complexity.
    normalise, annotate_phases : bool
    title : str, optional
        The figure's title, e.g. the run's name; by default "Information planes" and the
        condition.
    rule : PhaseRule
        The phase rule of the verdicts.

    Returns
    -------
    Figure
    """
    frame = check_frame(frame)
    planes = planes_in(frame)
    fig = Figure(figsize=(5.0 * len(planes), 4.8), layout="constrained")
    axes = fig.subplots(1, len(planes), squeeze=False)[0]
    for ax, plane in zip(axes, planes):
        choices = plane_choices(plane, condition, ib_layer, gib_layer, estimator, kind)
        trajectory = trajectory_of(frame, plane, choices)
        norm = _epoch_norm(trajectory)
        _draw_panel(ax, frame, plane, choices, condition, kind, norm, normalise, rule, trajectory,
                    annotate=annotate_phases)
        fig.colorbar(ScalarMappable(norm=norm, cmap=_early_dark(plane)), ax=ax, label="epoch", pad=0.02)
    if condition is None:  # the selection succeeded, so the planes hold one condition
        condition = str(frame.loc[frame["plane"].isin(planes), "condition"].iloc[0])
    _reference_legend(fig, axes)
    where = f", {condition}" if condition != "" else ""
    fig.suptitle(title if title is not None else f"Information planes{where}", fontsize=11)
    return fig


def plane_grid(
    frame: pd.DataFrame,
    *,
    conditions: Sequence[str] | None = None,
    ib_layer: str | None = None,
    estimator: str | None = None,
    kind: str = "featurewise",
    normalise: bool = True,
    title: str | None = None,
    gib_layer: str | None = None,
    figure: Any = None,
    rule: PhaseRule = DEFAULT_RULE,
) -> Figure:
    """IB planes (top row) over GIB planes (bottom row), one column per condition.

    Each panel is drawn as in :func:`information_plane` (its own limits, references clipped and
    marked where they leave it, notes under it), with one epoch colour bar per row and one legend
    of the references under the grid; each panel's title names the condition and layer and gives
    the verdict of ``rule`` with its drop and rebound.

    Parameters
    ----------
    frame : DataFrame
        The tidy results frame (module docstring); a plane missing from it is left out.
    conditions : sequence of str, optional
        The columns, in this order; by default every condition of the frame, sorted.
    ib_layer, estimator, gib_layer : str, optional
        Which trajectories; needed only when the frame holds several values.
    kind : {"featurewise", "sum_vs_whole"}
        The GIB complexity.
    normalise : bool
    title : str, optional
        The figure's title.
    figure : Figure or SubFigure, optional
        Draw into this (e.g. one of ``fig.subfigures(...)``, to stack grids) instead of a new one.
    rule : PhaseRule
        The phase rule of the verdicts.

    Returns
    -------
    Figure
    """
    frame = check_frame(frame)
    planes, columns = planes_in(frame), conditions_in(frame, conditions)
    fig = figure if figure is not None else Figure(
        figsize=(3.3 * len(columns) + 1.0, 3.6 * len(planes) + 0.6), layout="constrained"
    )
    axes = fig.subplots(len(planes), len(columns), squeeze=False)
    for row, plane in zip(axes, planes):
        choices = [plane_choices(plane, condition, ib_layer, gib_layer, estimator, kind) for condition in columns]
        table = [trajectory_of(frame, plane, choice) for choice in choices]
        norm = _epoch_norm(*table)
        for ax, condition, choice, trajectory in zip(row, columns, choices, table):
            _draw_panel(ax, frame, plane, choice, condition, kind, norm, normalise, rule, trajectory,
                        title_condition=True)
            if ax is not row[0]:
                ax.set_ylabel("")
        fig.colorbar(ScalarMappable(norm=norm, cmap=_early_dark(plane)), ax=list(row), label="epoch", pad=0.01)
    _reference_legend(fig, axes.ravel())
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def metric_curves(
    frame: pd.DataFrame,
    measures: Sequence[str] = ("accuracy",),
    *,
    conditions: Sequence[str] | None = None,
) -> Figure:
    """Training metrics (``plane == "metric"`` rows) against epoch, one panel per measure.

    One line per condition (mean over seeds, shaded band of one standard deviation).

    Parameters
    ----------
    frame : DataFrame
        The tidy results frame (module docstring).
    measures : sequence of str
        The metric rows to draw, e.g. ``("accuracy", "loss")``.
    conditions : sequence of str, optional
        The conditions, in this order; by default all, sorted.

    Returns
    -------
    Figure
    """
    frame = check_frame(frame)
    metrics = frame[frame["plane"] == "metric"]
    measures = [measures] if isinstance(measures, str) else list(measures)
    unknown = [m for m in measures if m not in set(metrics["measure"])]
    if unknown or not measures:
        raise ValueError(
            f"`measures` {unknown or measures!r} not among the metric rows; present: "
            f"{listed(metrics['measure']) or 'none'}."
        )
    present = sorted(pd.unique(metrics["condition"]), key=str)
    chosen = present if conditions is None else list(conditions)
    if missing := [c for c in chosen if c not in present]:
        raise ValueError(
            f"`conditions` {missing!r} have no metric rows; present: {', '.join(map(repr, present))}."
        )
    fig = Figure(figsize=(4.2 * len(measures), 3.4), layout="constrained")
    axes = fig.subplots(1, len(measures), squeeze=False)[0]
    for ax, measure in zip(axes, measures):
        for i, condition in enumerate(chosen):
            rows = metrics[(metrics["measure"] == measure) & (metrics["condition"] == condition)]
            curve = rows.groupby("step").agg(epoch=("epoch", "mean"), mean=("value", "mean"), std=("value", "std"))
            curve["std"] = curve["std"].fillna(0.0)
            colour = f"C{i % 10}"
            ax.plot(curve["epoch"], curve["mean"], color=colour, linewidth=1.2, label=_condition_label(condition))
            low, high = curve["mean"] - curve["std"], curve["mean"] + curve["std"]
            ax.fill_between(curve["epoch"], low, high, color=colour, alpha=0.2, linewidth=0)
        ax.set_xlabel("epoch")
        ax.set_ylabel(measure)
        ax.grid(True, linewidth=0.4, alpha=0.4)
    if len(chosen) > 1:
        axes[-1].legend(fontsize=8, frameon=False)
    return fig


# -- sweeps ---------------------------------------------------------------------------------
def _grid_columns(frame: pd.DataFrame, keys: Sequence[str]) -> list[str]:
    return [k if k in frame.columns and not k.startswith("grid_") and f"grid_{k}" not in frame.columns
            else f"grid_{k}" for k in keys]


def _combination_label(keys: Sequence[str], values: Sequence[Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in zip(keys, values)) or "all runs"


def _pick_layer(rows: pd.DataFrame, preferred: Sequence[str | None]) -> str | None:
    layers = list(pd.unique(rows["layer"]))
    for layer in preferred:
        if layer in layers:
            return layer
    return layers[-1] if layers else None


def sweep_figure(frame: pd.DataFrame, keys: Sequence[str], ib_layer: str | None = None,
                 title: str | None = None) -> Figure:
    """The summary figure of a merged sweep table (:func:`gib.sweep.merge_runs`).

    Per grid combination (columns), the seed-averaged IB and GIB trajectories (rows), one line
    per condition, with bars of one standard deviation across seeds on both axes.

    Raw bits, not normalised: the spread keeps its scale. A table without IB/GIB rows (an
    experiment that does not train) gets one panel per measure instead: per combination, the mean
    over seeds of each run's mean value, with the same spread.

    Parameters
    ----------
    frame : DataFrame
        The merged table: the tidy rows of every run with ``run``, ``seed`` and the grid keys
        (named ``grid_<key>`` where a key clashes with a column of the rows).
    keys : sequence of str
        The grid keys; one column of panels per combination of their values.
    ib_layer : str, optional
        The layer of the IB panels [the last layer of the rows].
    title : str, optional
        Prefixes the figure's description.

    Returns
    -------
    Figure
    """
    if "run" not in frame.columns:
        raise ValueError("`frame` has no `run` column: sweep_figure draws a merged sweep table "
                         "(gib.sweep.merge_runs); draw one run's rows with information_plane or plane_grid.")
    if isinstance(keys, str):
        keys = [keys]
    columns = _grid_columns(frame, keys)
    missing = [k for k, c in zip(keys, columns) if c not in frame.columns]
    if missing:
        raise ValueError(f"`keys` names {missing}, which the sweep table has no column for; its grid "
                         f"columns: {[c for c in frame.columns if c.startswith('grid_')] or 'none'}.")
    groups = list(frame.groupby(columns, sort=True, dropna=False)) if columns else [((), frame)]
    planes = [p for p in PLANES if "plane" in frame.columns and (frame["plane"] == p).any()]
    if not planes:
        return _measure_figure(frame, columns, keys, groups, title)
    fig = Figure(figsize=(3.4 * len(groups) + 0.8, 3.1 * len(planes) + 0.5), layout="constrained")
    axes = fig.subplots(len(planes), len(groups), squeeze=False)
    for col, (values, rows) in enumerate(groups):
        values = values if isinstance(values, tuple) else (values,)
        # runs are the seeds here: one index per run keeps seeds apart whatever the seed column says
        rows = rows.assign(seed=rows["run"].map({r: i for i, r in enumerate(pd.unique(rows["run"]))}))
        n_seeds = rows["run"].nunique()
        for row, plane in enumerate(planes):
            ax = axes[row][col]
            sel = rows[rows["plane"] == plane]
            estimator = sel["estimator"].iloc[0] if sel["estimator"].nunique() == 1 else None
            kind = None
            if plane == "GIB":
                kinds = list(pd.unique(sel["kind"]))
                kind = "featurewise" if "featurewise" in kinds else kinds[0]
            layer = _pick_layer(sel, [ib_layer] if plane == "IB" else ["input"])
            conditions = list(pd.unique(sel["condition"])) if "condition" in sel.columns else [None]
            for i, condition in enumerate(conditions):
                try:
                    table = trajectories(sel, plane, condition=condition, layer=layer, estimator=estimator, kind=kind)
                except ValueError as err:
                    ax.text(0.5, 0.5, str(err)[:80], ha="center", va="center", fontsize=6, transform=ax.transAxes,
                            wrap=True)
                    continue
                colour = f"C{i % 10}"
                x, y = table["complexity"].to_numpy(), table["prediction"].to_numpy()
                ax.errorbar(x, y, xerr=table["complexity_std"], yerr=table["prediction_std"], color=colour,
                            ecolor=colour, elinewidth=0.6, alpha=0.9, linewidth=1.2, capsize=0,
                            label=str(condition) if condition is not None else None)
                ax.plot(x[:1], y[:1], "o", color=colour, ms=4)
                ax.plot(x[-1:], y[-1:], "s", color=colour, ms=4)
            labels = AXIS_LABELS["IB"] if plane == "IB" else AXIS_LABELS.get(("GIB", kind), ("C", "P"))
            ax.set_xlabel(f"{labels[0]} [bits]", fontsize=8)
            ax.set_ylabel(f"{labels[1]} [bits]", fontsize=8)
            where = f" ({layer})" if layer else ""
            ax.set_title(f"{_combination_label(keys, values)}\n{plane}{where}, {n_seeds} seed(s)", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(True, linewidth=0.4, alpha=0.4)
    handles, labels = axes[0][0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 6), fontsize=8, frameon=False)
    what = "seed-mean trajectories (○ first, □ last record; bars: 1 s.d. across seeds)"
    fig.suptitle(f"{title}: {what}" if title else what, fontsize=10)
    return fig


def _measure_figure(frame: pd.DataFrame, columns: list[str], keys: Sequence[str], groups: list,
                    title: str | None) -> Figure:
    if "measure" not in frame.columns or "value" not in frame.columns:
        raise ValueError("the sweep table has neither IB/GIB rows nor measure/value columns to summarise.")
    hue = next((c for c in ("condition", "function") if c in frame.columns), None)
    measures = list(pd.unique(frame["measure"]))[:8]
    fig = Figure(figsize=(max(4.0, 1.0 * len(groups) + 2.5) * min(len(measures), 3) / 1.4,
                      3.2 * int(np.ceil(len(measures) / 3)) + 0.6), layout="constrained")
    axes = fig.subplots(int(np.ceil(len(measures) / 3)), min(len(measures), 3), squeeze=False).ravel()
    labels = [_combination_label(keys, v if isinstance(v, tuple) else (v,)) for v, _ in groups]
    hues = list(pd.unique(frame[hue])) if hue else [None]
    width = 0.8 / len(hues)
    for ax, measure in zip(axes, measures):
        for h, value in enumerate(hues):
            means, spreads = [], []
            for _, rows in groups:
                sel = rows[rows["measure"] == measure]
                if hue:
                    sel = sel[sel[hue] == value]
                per_run = sel.groupby("run")["value"].mean()
                means.append(per_run.mean() if len(per_run) else np.nan)
                spreads.append(per_run.std(ddof=1) if len(per_run) > 1 else 0.0)
            x = np.arange(len(groups)) + (h - (len(hues) - 1) / 2) * width
            ax.bar(x, means, width, yerr=spreads, color=f"C{h % 10}", label=None if value is None else str(value))
        ax.set_xticks(np.arange(len(groups)), labels, rotation=30, ha="right", fontsize=7)
        ax.set_title(str(measure), fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in axes[len(measures):]:
        ax.set_visible(False)
    if hue:
        axes[0].legend(fontsize=7, frameon=False)
    what = "mean over seeds of each run's mean value (bars: 1 s.d. across seeds)"
    fig.suptitle(f"{title}: {what}" if title else what, fontsize=10)
    return fig


def multiplets_landscape(frame: pd.DataFrame, bins: int = 64, title: str | None = None) -> Figure:
    """The landscape of a :func:`gib.multiplets` table, as hoi draws it: for each order, the
    distribution of the multiplets' values (the share of that order's multiplets in each bin of
    values, on a log colour scale), orders side by side.

    Parameters
    ----------
    frame : DataFrame
        A table of :func:`gib.multiplets` (columns ``order`` and ``value``, in bits).
    bins : int, default 64
        Bins of values, shared by the orders (over the values' range).
    title : str, optional
        Title above the panel.

    Returns
    -------
    Figure
        One panel: x the order, y the value in bits (a dashed line at 0: for the O-information,
        redundancy above, synergy below), with a colour bar of the share of multiplets.
    """
    if not isinstance(frame, pd.DataFrame) or not {"order", "value"} <= set(frame.columns) or frame.empty:
        raise ValueError("`frame` must be a non-empty table of gib.multiplets (columns order and value).")
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"`bins` must be a positive integer, got {bins!r}.")
    values = frame["value"].to_numpy(dtype=np.float64)
    orders = frame["order"].to_numpy()
    finite = np.isfinite(values)
    if not finite.any():
        raise ValueError("`frame` has no finite value to draw.")
    lo, hi = float(values[finite].min()), float(values[finite].max())
    if hi <= lo:  # one value: a bin of a small width around it
        lo, hi = lo - 0.5 * max(abs(lo), 1e-3), hi + 0.5 * max(abs(hi), 1e-3)
    edges = np.linspace(lo, hi, bins + 1)
    levels = np.unique(orders)
    share = np.full((bins, len(levels)), np.nan)
    for column, order in enumerate(levels):
        chosen = values[(orders == order) & finite]
        counts = np.histogram(chosen, bins=edges)[0] / max(len(chosen), 1)
        share[:, column] = np.where(counts > 0, counts, np.nan)
    fig = Figure(figsize=(1.1 * len(levels) + 3.2, 4.0), layout="constrained")
    ax = fig.subplots()
    x_edges = np.concatenate([levels - 0.5, [levels[-1] + 0.5]]).astype(np.float64)
    positive = share[np.isfinite(share)]
    mesh = ax.pcolormesh(x_edges, edges, share, cmap="turbo", norm=LogNorm(vmin=positive.min(), vmax=positive.max()))
    fig.colorbar(mesh, ax=ax, label="share of the order's multiplets")
    if lo < 0 < hi:
        ax.axhline(0.0, color="k", linestyle="--", linewidth=0.8)
    measure = frame.attrs.get("measure", "value")
    label = {"o_information": "O-information", "s_information": "S-information", "synergy": "synergy about the target",
             "total_correlation": "total correlation", "dual_total_correlation": "dual total correlation"}
    ax.set_xticks(levels)
    ax.set_xlim(x_edges[0], x_edges[-1])
    pad = 0.04 * (hi - lo)  # the extreme bins clear of the frame
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlabel("order (variables in the multiplet)")
    ax.set_ylabel(f"{label.get(measure, str(measure))} (bits)")
    counts = ", ".join(f"{int(np.sum(orders == o))} of order {o}" for o in levels)
    ax.set_title(f"{title}\n{counts}" if title else counts, fontsize=9)
    return fig


#: the colours of the seed rule's verdicts in :func:`verdict_figure`
VERDICT_COLORS = {"compresses": "#1b7837", "uncertain": "#e08214", "no compression": "#b2182b",
                  "no fitting phase": "#b2182b"}
UNREAD_COLOR = "#8c8c8c"


def _drop_limits(rows: pd.DataFrame) -> tuple[float, float]:
    """The x range (percent) of a verdict panel: 0-100% and every drop and interval drawn (a null's
    drop can be negative, or larger than the network's range), within -300% to 400%."""
    columns = [c for c in ("drop_fraction", "drop_fraction_low", "drop_fraction_high", "null_drop_fraction",
                           "null_drop_fraction_low", "null_drop_fraction_high") if c in rows.columns]
    values = 100 * rows[columns].to_numpy(float).ravel()
    values = values[np.isfinite(values)]
    low, high = min(0.0, *values) if len(values) else 0.0, max(100.0, *values) if len(values) else 100.0
    pad = 0.04 * (high - low)
    return max(-300.0, low - pad), min(400.0, high + pad)


def verdict_figure(tables: Any, *, title: str | None = None, expected: Any = None,
                   rule: PhaseRule = DEFAULT_RULE) -> Figure:
    """Each condition's complexity drop and the null's, with their intervals over seeds: the
    claims of an experiment at a glance.

    One panel per plane; one row per condition (per variant, where ``tables`` maps labels to seed
    tables), in the tables' order. The filled dot is the network's drop from its complexity peak
    to the last record as a share of its complexity range, with its interval over seeds; the open
    dot below it the null predictors' drop over the same steps and seeds (GIB, where recorded), on
    the same scale; the dashed line is the phase rule's minimum drop. The colour is the seed
    rule's verdict (:class:`gib.verdicts.SeedRule`); the text at the right gives it with the share
    of seed resamples that compress, the seeds that compress on their own and, with the null,
    whether the network goes beyond it.

    Parameters
    ----------
    tables : DataFrame or mapping of str to DataFrame
        :func:`gib.verdicts.seed_table` output; a mapping draws each table's rows under its label.
    title : str, optional
        The figure's title.
    expected : mapping of (condition, plane) to bool, optional
        What a claim says of each condition (compresses or not), written beside its name.
    rule : PhaseRule
        The rule whose minimum drop is marked.

    Returns
    -------
    Figure
    """
    import matplotlib.pyplot as plt

    if isinstance(tables, pd.DataFrame):
        tables = {"": tables}
    if not tables:
        raise ValueError("`tables` is empty; pass a seed table (gib.verdicts.seed_table) or a mapping of them.")
    expected = dict(expected or {})
    rows = pd.concat([t.assign(label=label) for label, t in tables.items()], ignore_index=True)
    planes = [p for p in ("GIB", *sorted(set(rows["plane"]) - {"GIB"})) if (rows["plane"] == p).any()]
    counts = [int((rows["plane"] == p).sum()) for p in planes]
    row_in, gap_in, top_in, bottom_in = 0.3, 0.75, 0.55 if title else 0.25, 0.85
    height = top_in + bottom_in + row_in * sum(c + 0.6 for c in counts) + gap_in * (len(planes) - 1)
    fig, axes = plt.subplots(len(planes), 1, figsize=(9.5, height), squeeze=False,
                             gridspec_kw={"height_ratios": [c + 0.6 for c in counts]})
    for ax, plane in zip(axes[:, 0], planes):
        mine = rows[rows["plane"] == plane].reset_index(drop=True)
        y = np.arange(len(mine))[::-1].astype(float)
        labels = []
        for yi, row in zip(y, mine.to_dict("records")):
            name = f"{row['label']}: {row['condition']}" if row["label"] else str(row["condition"])
            wanted = expected.get((row["condition"], plane))
            labels.append(name if wanted is None else f"{name}  (paper: {'yes' if wanted else 'no'})")
            color = VERDICT_COLORS.get(row["verdict"], UNREAD_COLOR)
            if np.isfinite(row["drop_fraction_low"]):
                ax.plot([100 * row["drop_fraction_low"], 100 * row["drop_fraction_high"]], [yi + 0.1] * 2, color=color,
                        lw=2.4, solid_capstyle="butt")
            ax.plot([100 * row["drop_fraction"]], [yi + 0.1], "o", color=color, ms=6, zorder=3)
            if np.isfinite(row.get("null_drop_fraction", np.nan)):
                if np.isfinite(row["null_drop_fraction_low"]):
                    ax.plot([100 * row["null_drop_fraction_low"], 100 * row["null_drop_fraction_high"]],
                            [yi - 0.2] * 2, color="0.5", lw=1.2)
                ax.plot([100 * row["null_drop_fraction"]], [yi - 0.2], "o", mfc="white", mec="0.3", ms=5, zorder=3)
            seeds = (f"{row['support']:.0%} of resamples, {row['seeds_compressing']} seeds" if row["n_seeds"] > 1
                     else "1 seed")
            beyond = row.get("beyond_null")
            note = f"{row['verdict']}: {seeds}" + (f"; beyond null: {beyond}" if isinstance(beyond, str) else "")
            ax.annotate(note, (1.02, yi), xycoords=("axes fraction", "data"), va="center", fontsize=7.5, color=color)
        ax.axvline(100 * rule.min_drop, color="0.2", ls="--", lw=0.9)
        ax.set_yticks(y, labels, fontsize=8)
        ax.set_ylim(-0.8, len(mine) - 0.2)
        ax.set_xlim(*_drop_limits(mine))
        ax.set_title(f"{plane} plane", fontsize=9, loc="left")
        ax.grid(axis="x", color="0.92")
        ax.tick_params(axis="x", labelsize=8)
        ax.set_xlabel("complexity drop after the peak, % of the complexity range", fontsize=8)
    handles = [Line2D([], [], marker="o", ls="-", color=VERDICT_COLORS["compresses"], label="network, interval over seeds"),
               Line2D([], [], marker="o", ls="-", color="0.5", mfc="white", mec="0.3", label="null predictors, same seeds"),
               Line2D([], [], ls="--", color="0.2", label=f"phase rule's minimum drop ({rule.min_drop:.0%})")]
    fig.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.01, 0.0), ncol=3, fontsize=7.5, frameon=False)
    if title:
        fig.suptitle(title, fontsize=10, x=0.01, ha="left", y=1 - 0.12 / height, va="top")
    fig.subplots_adjust(left=0.25, right=0.6, top=1 - top_in / height, bottom=bottom_in / height,
                        hspace=gap_in / (row_in * (sum(counts) / len(counts) + 0.6)))
    return fig
