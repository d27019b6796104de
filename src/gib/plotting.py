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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Colormap, ListedColormap, LogNorm, Normalize, SymLogNorm
from matplotlib.figure import Figure

from ._validation import one_of
from .phases import (DEFAULT_RULE, FLAT_RANGE, FRAME_COLUMNS, PLANES, CompressionPhase, check_frame, conditions_in,
                     listed, phase_of, phase_table, plane_choices, planes_in, probe_size, select_rows, trajectories,
                     trajectory_of)
from .phases import normalise as normalise_to_unit

PLANE_COLORMAPS = {"IB": "Blues", "GIB": "RdPu"}
AXIS_LABELS = {
    "IB": ("I(X;T)", "I(T;Y)"),
    ("GIB", "featurewise"): ("C = −S(X→Z)", "I(Ŷ;Y)"),
    ("GIB", "sum_vs_whole"): ("C = Σᵢ I(Xᵢ;Z) − I(X;Z)", "I(Ŷ;Y)"),
}
MARGIN = 0.05  # around the unit square of a normalised plane


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


def _raw_range(values: pd.Series) -> str:
    return f"{values.min():#.3g} to {values.max():#.3g} bits"


SATURATED_NOTE = "hollow: at the estimator's ceiling (saturated)"


def _draw_trajectory(ax, trajectory: pd.DataFrame, plane: str, norm: Normalize, normalise: bool):
    """One trajectory: a thin connecting line, points coloured by epoch, seed spread as bars.

    Points saturated for most seeds (``saturated >= 0.5``) are drawn hollow, ringed in their
    epoch colour, and the panel says so.
    """
    x, y = trajectory["complexity"].to_numpy(float), trajectory["prediction"].to_numpy(float)
    xerr, yerr = trajectory["complexity_std"].to_numpy(float), trajectory["prediction_std"].to_numpy(float)
    if normalise:
        # the spread scales with its trajectory's affine map to [0, 1]
        xerr, yerr = xerr / (np.ptp(x) or 1.0), yerr / (np.ptp(y) or 1.0)
        x, y = normalise_to_unit(x), normalise_to_unit(y)
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
    if hollow.any():
        ax.text(0.03, 0.97, SATURATED_NOTE, transform=ax.transAxes, ha="left", va="top", fontsize=7.5,
                color="0.25", zorder=5, gid="saturation-note")
    if normalise:
        ax.set_xlim(-MARGIN, 1 + MARGIN)
        ax.set_ylim(-MARGIN, 1 + MARGIN)
    ax.grid(True, linewidth=0.4, alpha=0.4)
    return x, y


# -- references of the GIB plane (SPEC 2, "References for the GIB plane") ---------------------
C_STAR_LABEL, NULL_LABEL = "C* (perfect predictor)", "null at the same accuracy"


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


def _like(values: Any, trajectory: np.ndarray) -> np.ndarray:
    """``values`` under the affine map that takes ``trajectory`` to [0, 1] (``normalise``)."""
    lo, spread = float(np.min(trajectory)), float(np.ptp(trajectory))
    return (np.asarray(values, dtype=float) - lo) / (spread if spread > FLAT_RANGE else 1.0)


def _draw_references(ax, trajectory: pd.DataFrame, references, normalise: bool,
                     legend: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """C* as a dashed vertical line and the null as a grey trajectory, mapped like the network's
    trajectory; returns the x and y values drawn (for the axis limits)."""
    c_star, null = references
    c, p = trajectory["complexity"].to_numpy(float), trajectory["prediction"].to_numpy(float)
    xs, ys = [], []
    if null is not None:
        x, y = null["complexity"].to_numpy(float), null["prediction"].to_numpy(float)
        if normalise:
            x, y = _like(x, c), _like(y, p)
        ax.plot(x, y, color="0.6", linewidth=1.0, marker="o", markersize=2.5, alpha=0.9, zorder=1.5, gid="null",
                label=NULL_LABEL)
        xs.append(x), ys.append(y)
    if c_star is not None:
        x_star = float(_like(c_star, c)) if normalise else c_star
        ax.axvline(x_star, color="0.25", linestyle="--", linewidth=1.0, zorder=1.6, gid="c_star", label=C_STAR_LABEL)
        xs.append(np.array([x_star]))
    if xs and legend:
        ax.legend(loc="upper left", fontsize=7, frameon=False, handlelength=1.8)
    return (np.concatenate(xs) if xs else np.empty(0)), (np.concatenate(ys) if ys else np.empty(0))


def _widen(axes, xs: np.ndarray, ys: np.ndarray) -> None:
    """Normalised limits that also hold reference points outside the unit square."""
    for ax in axes:
        if len(xs):
            ax.set_xlim(min(-MARGIN, float(np.nanmin(xs)) - MARGIN), max(1 + MARGIN, float(np.nanmax(xs)) + MARGIN))
        if len(ys):
            ax.set_ylim(min(-MARGIN, float(np.nanmin(ys)) - MARGIN), max(1 + MARGIN, float(np.nanmax(ys)) + MARGIN))


def _verdict(phase: CompressionPhase) -> str:
    return phase.verdict


def _rho(phase: CompressionPhase) -> str:
    # NaN when complexity peaks too late to have a trend after it
    return "n/a" if np.isnan(phase.spearman) else f"{phase.spearman:.2f}"


def _mark_peak(ax, x: np.ndarray, y: np.ndarray, phase: CompressionPhase) -> None:
    ax.plot(
        x[phase.peak_index], y[phase.peak_index], marker="o", markersize=11, markerfacecolor="none",
        markeredgecolor="black", markeredgewidth=1.0, linestyle="none", zorder=4, gid="peak",
    )


def _note(ax, text: str) -> None:
    ax.text(
        0.97, 0.04, text, transform=ax.transAxes, ha="right", va="bottom", fontsize=8,
        bbox={"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": "0.8", "alpha": 0.85},
        zorder=5,
    )


def _share(value: float) -> str:
    return "n/a" if np.isnan(value) else f"{value:.0%}"


def _phase_note(trajectory: pd.DataFrame, phase: CompressionPhase) -> str:
    return (
        f"C peaks at epoch {trajectory['epoch'].iloc[phase.peak_index]:.4g} (ring)\n"
        f"C drops {phase.drop_fraction:.0%} of its range ({phase.drop_bits:.2g} bits), "
        f"rebound {_share(phase.rebound)}, Spearman ρ = {_rho(phase)}\n"
        f"P changes {round(-phase.prediction_loss, 2) + 0.0:+.0%} after the peak: {_verdict(phase)}"
    )


def _axis_labels(
    ax, plane: str, kind: str, trajectory: pd.DataFrame, normalise: bool, raw_in_label: bool
) -> None:
    x_name, y_name = AXIS_LABELS["IB" if plane == "IB" else (plane, kind)]
    x_label, y_label = f"{plane} complexity {x_name}", f"{plane} prediction {y_name}"
    if normalise and raw_in_label:
        x_label += f"\nnormalised, raw {_raw_range(trajectory['complexity'])}"
        y_label += f"\nnormalised, raw {_raw_range(trajectory['prediction'])}"
    elif normalise:
        x_label, y_label = x_label + " (norm.)", y_label + " (norm.)"
    else:
        x_label, y_label = x_label + " [bits]", y_label + " [bits]"
    ax.set_xlabel(x_label, fontsize=9)
    ax.set_ylabel(y_label, fontsize=9)


def _condition_label(condition: str) -> str:
    return condition if condition != "" else "all runs"


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
) -> Figure:
    """The IB plane (blues) beside the GIB plane (pinks) of one condition, averaged over seeds.

    Points are coloured by epoch, dark early to light late, and joined in order; bars show the
    spread over seeds. With ``normalise`` each trajectory's axes are scaled to [0, 1] as in the
    paper, and the raw ranges are given in the axis labels. With ``annotate_phases`` the
    complexity peak is ringed and the compression-phase numbers (SPEC 2) are written in the panel.
    When the frame holds the GIB references (``Monitor(null=...)``), the GIB panel also shows C*
    as a dashed vertical line and the seed-averaged null as a grey trajectory, both under the
    network trajectory's own normalisation (so they may lie outside the unit square).

    Parameters
    ----------
    frame : DataFrame
        The tidy results frame (module docstring); a plane missing from it is left out.
    condition, ib_layer, estimator, gib_layer : str, optional
        Which trajectories; needed only when the frame holds several values.
    kind : {"featurewise", "sum_vs_whole"}
        The GIB complexity.
    normalise, annotate_phases : bool

    Returns
    -------
    Figure
    """
    frame = check_frame(frame)
    planes = planes_in(frame)
    fig = Figure(figsize=(5.0 * len(planes), 4.4), layout="constrained")
    axes = fig.subplots(1, len(planes), squeeze=False)[0]
    for ax, plane in zip(axes, planes):
        choices = plane_choices(plane, condition, ib_layer, gib_layer, estimator, kind)
        trajectory = trajectory_of(frame, plane, choices)
        norm = _epoch_norm(trajectory)
        x, y = _draw_trajectory(ax, trajectory, plane, norm, normalise)
        if plane == "GIB":
            drawn = _draw_references(ax, trajectory, _references(frame, choices), normalise)
            if normalise:
                _widen([ax], *drawn)
        _axis_labels(ax, plane, kind, trajectory, normalise, raw_in_label=True)
        fig.colorbar(ScalarMappable(norm=norm, cmap=_early_dark(plane)), ax=ax, label="epoch", pad=0.02)
        title = f"{plane} plane"
        if annotate_phases:
            phase = phase_of(trajectory, DEFAULT_RULE, probe_size(frame, condition))
            _mark_peak(ax, x, y, phase)
            _note(ax, _phase_note(trajectory, phase))
            title += f": {_verdict(phase)}"
        ax.set_title(title, fontsize=10)
    if condition is None:  # the selection succeeded, so the planes hold one condition
        condition = str(frame.loc[frame["plane"].isin(planes), "condition"].iloc[0])
    fig.suptitle(f"Information planes, {_condition_label(condition)}", fontsize=11)
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
) -> Figure:
    """IB planes (top row) over GIB planes (bottom row), one column per condition.

    Colouring as in :func:`information_plane`, with one epoch colour bar per row (shared by the
    row's panels); each panel's title gives its compression verdict, drop fraction and Spearman
    correlation, and with ``normalise`` a note in the panel gives the raw ranges. GIB references
    in the frame are drawn as in :func:`information_plane` (legend in the first GIB panel, C* in
    bits in each panel's note).

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

    Returns
    -------
    Figure
    """
    frame = check_frame(frame)
    planes, columns = planes_in(frame), conditions_in(frame, conditions)
    fig = figure if figure is not None else Figure(
        figsize=(3.1 * len(columns) + 1.0, 3.0 * len(planes) + 0.4), layout="constrained"
    )
    # axes shared within a row: a GIB row widened for its references leaves the IB row as it is
    share = "row" if normalise else False
    axes = fig.subplots(len(planes), len(columns), squeeze=False, sharex=share, sharey=share)
    for row, plane in zip(axes, planes):
        drawn_x, drawn_y = [], []
        table = [
            trajectory_of(frame, plane, plane_choices(plane, condition, ib_layer, gib_layer, estimator, kind))
            for condition in columns
        ]
        norm = _epoch_norm(*table)
        for ax, condition, trajectory in zip(row, columns, table):
            x, y = _draw_trajectory(ax, trajectory, plane, norm, normalise)
            c_star = None
            if plane == "GIB":
                references = _references(frame, plane_choices(plane, condition, ib_layer, gib_layer, estimator, kind))
                c_star = references[0]
                rx, ry = _draw_references(ax, trajectory, references, normalise, legend=not drawn_x)
                drawn_x.append(rx), drawn_y.append(ry)
            phase = phase_of(trajectory, DEFAULT_RULE, probe_size(frame, condition))
            _mark_peak(ax, x, y, phase)
            ax.set_title(
                f"{_condition_label(condition)}: {_verdict(phase)}\n"
                f"drop {phase.drop_fraction:.0%} ({phase.drop_bits:.2g} bits), rebound {_share(phase.rebound)}",
                fontsize=9,
            )
            _axis_labels(ax, plane, kind, trajectory, normalise, raw_in_label=False)
            if normalise:
                raw = f"raw C {_raw_range(trajectory['complexity'])}\nraw P {_raw_range(trajectory['prediction'])}"
                if c_star is not None:
                    raw += f"\nC* {c_star:#.3g} bits"
                _note(ax, raw)
            if ax is not row[0]:
                ax.set_ylabel("")
        if normalise and drawn_x:
            # after the whole row: each panel's drawing reset the shared limits to the unit square
            _widen(row, np.concatenate(drawn_x), np.concatenate(drawn_y))
        fig.colorbar(ScalarMappable(norm=norm, cmap=_early_dark(plane)), ax=list(row), label="epoch", pad=0.01)
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
