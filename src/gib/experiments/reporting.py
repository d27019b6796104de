"""Shared pieces of the run reports: phase tables as markdown, claim lines."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..plotting import phase_table, trajectories


def markdown_table(frame: pd.DataFrame, floatfmt: str = "{:.3f}") -> str:
    """A plain markdown table (no extra dependency)."""
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in frame.iterrows():
        cells = []
        for c in cols:
            v = row[c]
            if isinstance(v, float):
                cells.append(floatfmt.format(v))
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


PHASE_COLUMNS = ["condition", "plane", "n_seeds", "peak_epoch", "drop_fraction", "spearman",
                 "prediction_loss", "compresses"]


def phases(frame: pd.DataFrame, **selection) -> pd.DataFrame:
    """Phase numbers per condition x plane (SPEC 2), seed-averaged."""
    return phase_table(frame, **selection)[PHASE_COLUMNS]


def compressing(table: pd.DataFrame, plane: str) -> list[str]:
    rows = table[(table["plane"] == plane) & table["compresses"]]
    return list(rows["condition"])


NULL_TABLE_COLUMNS = ["condition", "c_star", "peak_above_c_star", "null_peak_above_c_star", "drop_bits",
                      "null_drop_bits", "drop_from_accuracy", "beyond_null"]


def _gib_rows(frame: pd.DataFrame, measure: str, condition: str, selection: dict, renamed: str | None = None):
    """GIB rows of one measure and condition, narrowed by the selection's given values."""
    rows = frame[(frame["plane"] == "GIB") & (frame["measure"] == measure) & (frame["condition"] == condition)]
    for column, value in selection.items():
        if value is not None:
            rows = rows[rows[column] == value]
    return rows if renamed is None else rows.assign(measure=renamed)


def null_table(frame: pd.DataFrame, *, estimator: str | None = None, kind: str = "featurewise",
               gib_layer: str | None = None, min_drop: float = 0.1) -> pd.DataFrame:
    """The GIB trajectory of each condition against its references (SPEC 2, "References for the
    GIB plane"), seed-averaged, in bits.

    Parameters
    ----------
    frame : DataFrame
        A results frame with the Monitor's ``null_complexity``, ``null_prediction`` and
        ``reference_complexity`` GIB rows (``Monitor(null=...)``).
    estimator, kind, gib_layer
        Which GIB trajectory (as for :func:`gib.plotting.trajectories`).
    min_drop : float
        The fraction of the network's C range by which its drop must exceed the null's.

    Returns
    -------
    DataFrame
        One row per condition: ``c_star`` (C of a perfect predictor), ``peak_above_c_star``
        (the network's largest C minus C*), ``null_peak_above_c_star`` (the largest null C over
        the same steps minus C*), ``drop_bits`` (the network's C at its peak minus at the last
        step), ``null_drop_bits`` (the null's C at the network's peak step minus at the last
        step), ``drop_from_accuracy`` (null_drop_bits / drop_bits: the part of the drop that the
        accuracy alone accounts for; NaN when drop_bits <= 0) and ``beyond_null`` (the network
        drops at least ``min_drop`` of its C range more than the null and peaks further above C*
        than the null does). Conditions without null rows get NaN and ``beyond_null`` None.
    """
    selection = dict(layer=gib_layer, estimator=estimator, kind=kind)
    gib_conditions = frame.loc[(frame["plane"] == "GIB") & (frame["measure"] == "complexity"), "condition"]
    records = []
    for condition in sorted(pd.unique(gib_conditions), key=str):
        net = trajectories(frame, "GIB", condition=condition, **selection)
        c = net["complexity"].to_numpy(float)
        peak = int(np.argmax(c))
        record = dict(condition=condition, c_star=np.nan, peak_above_c_star=np.nan, null_peak_above_c_star=np.nan,
                      drop_bits=float(c[peak] - c[-1]), null_drop_bits=np.nan, drop_from_accuracy=np.nan,
                      beyond_null=None)
        stars = _gib_rows(frame, "reference_complexity", condition, selection)
        null_rows = pd.concat([_gib_rows(frame, "null_complexity", condition, selection, "complexity"),
                               _gib_rows(frame, "null_prediction", condition, selection, "prediction")])
        if len(stars):
            record["c_star"] = float(stars["value"].mean())
            record["peak_above_c_star"] = float(c[peak] - record["c_star"])
        if len(null_rows):
            null = trajectories(null_rows, "GIB", condition=condition, **selection).set_index("step")
            null_c = null["complexity"].reindex(net["step"]).to_numpy(float)
            record["null_drop_bits"] = float(null_c[peak] - null_c[-1])
            if record["drop_bits"] > 0:
                record["drop_from_accuracy"] = record["null_drop_bits"] / record["drop_bits"]
            if len(stars) and np.isfinite(record["null_drop_bits"]):
                record["null_peak_above_c_star"] = float(np.nanmax(null_c) - record["c_star"])
                record["beyond_null"] = bool(
                    record["drop_bits"] - record["null_drop_bits"] >= min_drop * float(np.ptp(c))
                    and record["peak_above_c_star"] > record["null_peak_above_c_star"]
                )
        records.append(record)
    # True / False / None alike, whether or not some condition lacks the null
    return pd.DataFrame.from_records(records, columns=NULL_TABLE_COLUMNS).astype({"beyond_null": object})


@dataclass(frozen=True)
class Claim:
    """One claim of the paper (SPEC 4, last paragraph) as measured in a run.

    ``beyond_null``: whether the GIB compression the claim rests on exceeds what the null
    predictors show at the same accuracy (``null_table``); None where not measured.
    """

    claim: str
    measured: str
    holds: bool
    beyond_null: bool | None = None

    def markdown(self) -> str:
        line = claim_line(self.claim, self.measured, self.holds)
        if self.beyond_null is not None:
            line += f"\n  - beyond the null: {'yes' if self.beyond_null else 'no'}"
        return line


def claim_line(claim: str, measured: str, holds: bool) -> str:
    return f"- **Claim:** {claim}\n  - measured: {measured}\n  - **{'holds' if holds else 'does not hold'}** in this run"


def header(run, title: str, extra: str = "") -> str:
    cfg = run.config
    return (
        f"# {title}\n\nExperiment `{run.experiment}`, preset `{cfg.get('preset')}`, "
        f"seeds {cfg.get('seeds')}, estimator `{cfg.get('estimator')}`, synergy `{cfg.get('synergy')}`. "
        f"All information values in bits.{(' ' + extra) if extra else ''}\n"
    )


def data_line(run) -> str:
    """'Data: ...' from the run's data.json (written by the experiment when it loads its data)."""
    import json

    path = run.path / "data.json"
    if not path.exists():
        return "Data: not recorded (the run predates data.json)."
    info = json.loads(path.read_text())
    return "Data: " + "; ".join(f"{v}" if k == "source" else f"{k}: {v}" for k, v in info.items()) + "\n"
