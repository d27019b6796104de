"""The run reports: one typed :class:`gib.experiments.reporting.Report` per run, rendered to
markdown by :func:`gib.experiments.reporting.render_report`, and the pieces the experiments share (phase tables, claim lines, IB saturation, negative estimates).

An experiment's ``report(run_dir)`` gathers its numbers into a :class:`Report` (title, config,
data source, sections, claims, figures) and returns ``render_report(report)``: every report has the same
layout, and the layout lives here only.
"""

from __future__ import annotations

from ..exceptions import docs_link

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..phases import DEFAULT_RULE, PhaseRule, phase_of, phase_table, probe_size, trajectories
from ..verdicts import (DEFAULT_SEED_RULE, SeedRule, beyond_call, claim_call, interval_text, null_text, plane_text,
                       seed_table)


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


PHASE_COLUMNS = ["condition", "plane", "n_seeds", "peak_epoch", "drop_fraction", "drop_bits", "rebound",
                 "spearman", "prediction_loss", "verdict", "seeds_compressing", "drop_fraction_sd",
                 "peak_epoch_sd"]

#: what the phase tables' columns mean, for the reports: the rule's own text (SPEC 2, "Phases")
#: and the columns it does not explain
PHASE_LEGEND = (
    DEFAULT_RULE.describe() + " `drop_bits` is the fall in bits. `seeds_compressing`: seeds whose own "
    "trajectory compresses; `drop_fraction_sd`, `peak_epoch_sd`: the spread over seeds."
)


def phases(frame: pd.DataFrame, **selection) -> pd.DataFrame:
    """Phase numbers per condition x plane (SPEC 2): seed-averaged, with the per-seed reading."""
    return phase_table(frame, **selection)[PHASE_COLUMNS]


SATURATION_MEASURES = ("saturated", "over_bound", "complexity_ceiling", "prediction_ceiling")


def _bits(values: pd.Series) -> str:
    """A ceiling in bits: one value, or the range when seeds' probe sets differ."""
    lo, hi = float(values.min()), float(values.max())
    if np.isinf(lo):
        return "none (continuous Y)"
    return f"{lo:.3f}" if hi - lo < 5e-4 else f"{lo:.3f} to {hi:.3f}"


def saturation_summary(frame: pd.DataFrame, ib_layer: str | None = None, estimator: str | None = None) -> str:
    """Markdown lines on the IB plane's saturation (the Monitor's ``saturated`` and
    ``over_bound`` rows): per condition x IB layer x estimator, how many records (seed x record
    step) are at the estimator's ceiling or over the bound, with the ceilings in bits.

    Parameters
    ----------
    frame : DataFrame
        A results frame (``plane``, ``layer``, ``estimator``, ``measure``, ``value`` columns;
        ``condition`` and ``seed`` when it has them).
    ib_layer, estimator : str, optional
        Only this IB layer / estimator; by default all of them.

    Returns
    -------
    str
        A heading line, a sentence on how to read it and a markdown table, or one line saying
        that the frame holds no saturation flags (runs recorded before them).
    """
    rows = frame[(frame["plane"] == "IB") & frame["measure"].isin(SATURATION_MEASURES)]
    if ib_layer is not None:
        rows = rows[rows["layer"] == ib_layer]
    if estimator is not None:
        rows = rows[rows["estimator"] == estimator]
    heading = "## IB saturation (estimator ceilings)\n"
    if not (rows["measure"] == "saturated").any():
        return heading + "\nNo saturation flags in this run's table (it was recorded before gib flagged them).\n"
    if "condition" not in rows.columns:
        rows = rows.assign(condition="")
    records = []
    for (condition, layer, est), group in rows.groupby(["condition", "layer", "estimator"], sort=True):
        values = {m: group.loc[group["measure"] == m, "value"] for m in SATURATION_MEASURES}
        flags = values["saturated"]
        ceilings = {m: _bits(values[m]) if len(values[m]) else "?"
                    for m in ("complexity_ceiling", "prediction_ceiling")}
        records.append({
            "condition": condition if condition != "" else "all runs",
            "IB layer": layer,
            "estimator": est,
            "records": len(flags),
            "saturated": int((flags >= 0.5).sum()),
            "over bound": int((values["over_bound"] >= 0.5).sum()),
            "I(X;T) ceiling": ceilings["complexity_ceiling"],
            "I(T;Y) ceiling": ceilings["prediction_ceiling"],
        })
    table = pd.DataFrame.from_records(records)
    saturated = int(table["saturated"].sum())
    over = int(table["over bound"].sum())
    verdict = (
        f"{saturated} of {int(table['records'].sum())} IB points are at their estimator's ceiling "
        f"(I(X;T) at min(log2 N, H(X)) or I(T;Y) at H(Y), in bits), {over} over the bound. "
        "A saturated point cannot show what the network learns; its plane carries no signal "
        f"({docs_link('estimators', 'saturation-remedies')})."
    )
    return "\n".join([heading, verdict + "\n", markdown_table(table)]) + "\n"


def negative_summary(frame: pd.DataFrame, estimator: str | None = None) -> str:
    """Markdown lines on the estimates below zero (the Monitor's ``negative`` rows, IB and GIB
    planes): per condition x plane x layer x estimator, how many records (seed x record step)
    have an estimate below zero. ``kde`` and ``gcmi`` can return one for nearly independent
    variables; it is the estimator's bias, not information, and reads as zero.

    Parameters
    ----------
    frame : DataFrame
        A results frame (``plane``, ``layer``, ``estimator``, ``measure``, ``value`` columns;
        ``condition`` and ``seed`` when it has them).
    estimator : str, optional
        Only this estimator; by default all of them.

    Returns
    -------
    str
        A heading and one line when no record is flagged, with a table when some are; an empty
        string when the frame holds no ``negative`` rows (runs recorded before the flag).
    """
    rows = frame[frame["plane"].isin(("IB", "GIB")) & (frame["measure"] == "negative")]
    if estimator is not None:
        rows = rows[rows["estimator"] == estimator]
    if rows.empty:
        return ""
    if "condition" not in rows.columns:
        rows = rows.assign(condition="")
    # a GIB point has one flag per synergy kind (the same leave-one-out): count each point once
    keys = [c for c in ("condition", "seed", "step", "plane", "layer", "estimator") if c in rows.columns]
    flags = rows.groupby(keys, sort=False)["value"].max().reset_index()
    flagged = flags[flags["value"] >= 0.5]
    heading = "## Negative estimates\n"
    if flagged.empty:
        return heading + f"\nNone of the {len(flags)} IB and GIB points has an estimate below zero.\n"
    table = (flagged.groupby(["condition", "plane", "layer", "estimator"]).size().rename("negative")
             .reset_index().merge(flags.groupby(["condition", "plane", "layer", "estimator"]).size()
                                  .rename("records").reset_index()))
    table["condition"] = table["condition"].replace("", "all runs")
    line = (f"{len(flagged)} of {len(flags)} IB and GIB points have an estimate below zero (an I(X;T), I(T;Y), "
            "I(X;Z), I(X_i;Z), I(X_-i;Z) or I(Yhat;Y) under -1e-12 bits): the estimator's bias for nearly "
            f"independent variables (kde, gcmi; {docs_link('estimators', 'negative-estimates')}), not information: "
            "read a negative "
            "value as zero, and a plane made of them as showing no information.")
    return "\n".join([heading, line + "\n", markdown_table(table[["condition", "plane", "layer", "estimator",
                                                                    "records", "negative"]])]) + "\n"


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
               gib_layer: str | None = None, rule: PhaseRule = DEFAULT_RULE,
               min_drop: float | None = None) -> pd.DataFrame:
    """The GIB trajectory of each condition against its references (SPEC 2, "References for the
    GIB plane"), seed-averaged, in bits.

    Parameters
    ----------
    frame : DataFrame
        A results frame with the Monitor's ``null_complexity``, ``null_prediction`` and
        ``reference_complexity`` GIB rows (``Monitor(null=...)``).
    estimator, kind, gib_layer
        Which GIB trajectory (as for :func:`gib.phases.trajectories`).
    rule : PhaseRule
        The phase rule whose peak and drop are compared (:data:`gib.phases.DEFAULT_RULE`).
    min_drop : float, optional
        The fraction of the network's C range by which its drop must exceed the null's; default
        the rule's ``min_drop``, the share its drop must have for a compression phase.

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
    if min_drop is not None:
        rule = rule.with_thresholds(min_drop=min_drop)
    selection = dict(layer=gib_layer, estimator=estimator, kind=kind)
    gib_conditions = frame.loc[(frame["plane"] == "GIB") & (frame["measure"] == "complexity"), "condition"]
    records = []
    for condition in sorted(pd.unique(gib_conditions), key=str):
        net = trajectories(frame, "GIB", condition=condition, **selection)
        c = net["complexity"].to_numpy(float)
        phase = phase_of(net, rule, probe_size(frame, condition))
        peak = phase.peak_index
        record = dict(condition=condition, c_star=np.nan, peak_above_c_star=np.nan, null_peak_above_c_star=np.nan,
                      drop_bits=phase.drop_bits, null_drop_bits=np.nan, drop_from_accuracy=np.nan,
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
                    record["drop_bits"] - record["null_drop_bits"] >= rule.min_drop * phase.complexity_range
                    and record["peak_above_c_star"] > record["null_peak_above_c_star"]
                )
        records.append(record)
    # True / False / None alike, whether or not some condition lacks the null
    return pd.DataFrame.from_records(records, columns=NULL_TABLE_COLUMNS).astype({"beyond_null": object})


def null_of(frame: pd.DataFrame, *, estimator: str | None = None, kind: str = "featurewise",
            gib_layer: str | None = None, **_other_planes) -> pd.DataFrame:
    """``null_table`` for an experiment's plane selection (its IB choices are ignored)."""
    return null_table(frame, estimator=estimator, kind=kind, gib_layer=gib_layer)


@dataclass(frozen=True)
class Claim:
    """One claim of the paper (SPEC 4, last paragraph) as measured in a run.

    ``holds``: True, False, or None when the claim is uncertain (the seed rule,
    :class:`gib.verdicts.SeedRule`, could not tell). ``beyond_null``: whether the GIB compression
    the claim rests on exceeds what the null predictors show at the same accuracy: True, False,
    ``"uncertain"``, or None where not measured. ``evidence``: the seed table
    (:func:`gib.verdicts.seed_table`) the claim was read from, and ``expected``, what the claim says of
    each (condition, plane) in it (compresses or not), for the claims figure; ``setup``:
    what the run was (preset, seeds, epochs, data), filled in by the reproduction when empty.
    """

    claim: str
    measured: str
    holds: bool | None
    beyond_null: bool | str | None = None
    evidence: pd.DataFrame | None = field(default=None, compare=False, repr=False)
    expected: Mapping[tuple[str, str], bool] | None = field(default=None, compare=False, repr=False)
    setup: str = ""

    def markdown(self) -> str:
        line = claim_line(self.claim, self.measured, self.holds)
        if self.setup:
            line += f"\n  - run: {self.setup}"
        if self.beyond_null is not None:
            line += f"\n  - beyond the null: {beyond_text(self.beyond_null)}"
        return line


def seed_claim(claim: str, seeds: pd.DataFrame, expected: Mapping[tuple[str, str], bool], *,
               planes: Mapping[str, str] | None = None, null_conditions: list[str] | None = None,
               complete: bool = True, note: str = "") -> Claim:
    """A claim read by the seed rule (:class:`gib.verdicts.SeedRule`): it holds when every
    (condition, plane) of ``expected`` reads as expected, fails when one reads the other way, and
    is uncertain otherwise (:func:`gib.verdicts.claim_call`).

    Parameters
    ----------
    claim : str
        The paper's claim.
    seeds : DataFrame
        The run's seed table (:func:`gib.verdicts.seed_table`).
    expected : mapping of (condition, plane) to bool
        What the claim says of each condition: compresses (True) or not (False).
    planes : mapping of plane to label, optional
        The planes the measured text lists, with their labels; default those of ``expected``.
    null_conditions : list of str, optional
        The conditions whose GIB compression must go beyond the null (``beyond_null``); default
        the GIB conditions expected to compress.
    complete : bool
        False when the run lacks conditions the claim names: it cannot hold then.
    note : str
        Added to the measured text.
    """
    keys = list(expected)
    planes = planes or {plane: plane for plane in dict.fromkeys(p for _, p in keys)}
    if null_conditions is None:
        null_conditions = [c for (c, p), wanted in expected.items() if p == "GIB" and wanted]
    parts = []
    for plane, label in planes.items():
        conditions = [c for c, p in keys if p == plane] or None  # a plane the claim names nothing of: all
        parts.append(f"{label}: {plane_text(seeds, plane, conditions)}")
    n_seeds = sorted(set(int(n) for n in seeds["n_seeds"]))
    counts = "/".join(map(str, n_seeds))
    measured = ". ".join(parts) + (f" ({counts} seed{'s' if n_seeds != [1] else ''}; % = seed resamples "
                                   "compressing)" if n_seeds != [1] else " (one seed: no interval)")
    beyond = beyond_call(seeds, null_conditions) if null_conditions else None
    if beyond is not None:
        measured += "; " + null_text(seeds, null_conditions)
    if note:
        measured += f"; {note}"
    holds = claim_call(seeds, expected) if complete else False
    return Claim(claim, measured, holds, beyond, evidence=seeds, expected=dict(expected))


def holds_text(holds: bool | None) -> str:
    """"holds", "does not hold" or "uncertain" (``holds`` None)."""
    return "uncertain" if holds is None else ("holds" if holds else "does not hold")


def beyond_text(value: bool | str | None) -> str:
    """A claim's beyond-the-null reading in a word: yes, no, uncertain, - where not measured."""
    if value is None:
        return "-"
    return value if isinstance(value, str) else ("yes" if value else "no")


def claim_line(claim: str, measured: str, holds: bool | None) -> str:
    return f"- **Claim:** {claim}\n  - measured: {measured}\n  - **{holds_text(holds)}** in this run"


def _seeds_text(seeds: Any) -> str:
    seeds = [int(s) for s in (seeds if isinstance(seeds, (list, tuple)) else [seeds])]
    if len(seeds) > 2 and seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"seeds {seeds[0]}-{seeds[-1]}"
    return ("seed " if len(seeds) == 1 else "seeds ") + ", ".join(map(str, seeds))


#: config keys that count training, in the order they are named
_LENGTH_KEYS = (("epochs", "epochs"), ("student_epochs", "student epochs"), ("unlearn_epochs", "unlearning epochs"),
                ("finetune_epochs", "fine-tuning epochs"))


def run_setup(run) -> str:
    """What a run was, for a claims table: its preset, seeds, training length and data (original or
    an offline stand-in, as its data record and config say)."""
    import json
    import re

    cfg = run.config
    parts = [f"`{cfg.get('preset')}`"]
    if cfg.get("seeds") is not None:
        parts.append(_seeds_text(cfg["seeds"]))
    lengths = [f"{cfg[key]} {name}" for key, name in _LENGTH_KEYS if cfg.get(key) is not None]
    parts += lengths
    text = ""
    path = run.path / "data.json"
    if path.exists():
        try:
            text = " ".join(str(v) for v in json.loads(path.read_text()).values())
        except json.JSONDecodeError:
            text = ""
    stand_ins = sorted(set(re.findall(r"stand-in for ([\w -]+?)\)", text)))
    if str(cfg.get("model", "")).lower() == "minilm":
        stand_ins.append("BERT-base (model: all-MiniLM-L6-v2)")
    parts.append("data: " + ("stand-in for " + ", ".join(stand_ins) if stand_ins else "original"))
    return ", ".join(parts)


def data_line(run) -> str:
    """'Data: ...' from the run's data.json (written by the experiment when it loads its data)."""
    import json

    path = run.path / "data.json"
    if not path.exists():
        return "Data: not recorded (the run predates data.json)."
    info = json.loads(path.read_text())
    return "Data: " + "; ".join(f"{v}" if k == "source" else f"{k}: {v}" for k, v in info.items()) + "\n"


@dataclass(frozen=True)
class Section:
    """One part of a report: a ``## heading`` and the markdown under it. A heading of None
    means the body brings its own (as :func:`saturation_summary` does)."""

    heading: str | None
    body: str

    def markdown(self) -> str:
        body = self.body.strip("\n")
        return body if self.heading is None else f"## {self.heading}\n\n{body}"


@dataclass(frozen=True)
class Report:
    """What a run's report says, before it is rendered (:func:`render_report`).

    ``note`` follows the config line; ``data`` says where the data came from; ``setup`` what was
    trained and measured. ``claims`` are the paper's claims (or observations, under another
    ``claims_heading``) as measured; ``figures`` maps each figure file in ``figures/`` to what it
    shows ("" for nothing to add).
    """

    title: str
    experiment: str
    config: Mapping[str, Any]
    data: str = ""
    note: str = ""
    setup: str = ""
    sections: tuple[Section, ...] = ()
    claims: tuple[Claim, ...] = ()
    claims_heading: str = "Claims"
    figures: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, run, title: str, **parts: Any) -> Report:
        """The report of ``run`` (its experiment and config), with ``parts`` as the fields;
        ``sections`` and ``claims`` may be any iterables."""
        for name in ("sections", "claims"):
            if name in parts:
                parts[name] = tuple(parts[name])
        return cls(title=title, experiment=run.experiment, config=dict(run.config), **parts)


def render_report(report: Report) -> str:
    """The markdown of ``report``: title, config line, data, setup, sections, claims, figures,
    one blank line between blocks."""
    cfg = report.config
    config_line = (f"Experiment `{report.experiment}`, preset `{cfg.get('preset')}`, seeds {cfg.get('seeds')}, "
                   f"estimator `{cfg.get('estimator')}`, synergy `{cfg.get('synergy')}`. All information values "
                   f"in bits.{(' ' + report.note) if report.note else ''}")
    if cfg.get("estimator_options"):
        config_line += f" Estimator options: {', '.join(cfg['estimator_options'])}."
    blocks = [f"# {report.title}", config_line, report.data, report.setup,
              *(section.markdown() for section in report.sections)]
    if report.claims:
        blocks.append(f"## {report.claims_heading}\n\n" + "\n".join(c.markdown() for c in report.claims))
    if report.figures:
        listed = [f"`figures/{name}`" + (f" ({about})" if about else "") for name, about in report.figures.items()]
        blocks.append(f"Figure{'s' if len(listed) > 1 else ''}: {', '.join(listed)}.")
    return "\n\n".join(block.strip("\n") for block in blocks if block.strip()) + "\n"


def phase_section(table: pd.DataFrame, note: str = "", heading: str = "Phase numbers") -> Section:
    """The phase numbers of a run (:func:`phases`) under the legend of their columns, with
    ``note`` on what this experiment adds to them."""
    legend = PHASE_LEGEND + (f" {note}" if note else "")
    return Section(heading, f"{legend}\n\n{markdown_table(table)}")


def in_seed_order(table: pd.DataFrame, conditions: Iterable[str], planes: Iterable[str] = ("GIB", "IB")) -> pd.DataFrame:
    """The rows of a seed table (:func:`gib.verdicts.seed_table`) for ``conditions`` in that order
    within each of ``planes`` in that order; other rows are left out."""
    rank = {c: i for i, c in enumerate(conditions)}
    plane_rank = {p: i for i, p in enumerate(planes)}
    rows = table[table["condition"].isin(rank) & table["plane"].isin(plane_rank)]
    keys = rows["plane"].map(plane_rank) * len(rank) + rows["condition"].map(rank)
    return rows.iloc[np.argsort(keys.to_numpy(), kind="stable")].reset_index(drop=True)


def _interval_of(row: Mapping, name: str, percent: bool) -> str:
    return interval_text(row[name], row[f"{name}_low"], row[f"{name}_high"], percent, digits=4)


def seed_section(table: pd.DataFrame, heading: str = "Verdicts over seeds", rule: PhaseRule = DEFAULT_RULE,
                 seed_rule: SeedRule = DEFAULT_SEED_RULE, note: str = "") -> Section:
    """A seed table (:func:`gib.verdicts.seed_table`) under the seed rule's own text: each verdict
    with the share of seed resamples that compress, the drop and peak with their intervals and,
    against the null predictors (paired per seed), the null's drop and the network's excess."""
    has_null = table["null_drop_fraction"].notna().any()
    records = []
    for row in table.to_dict("records"):
        record = {"condition": row["condition"], "plane": row["plane"], "seeds": row["n_seeds"],
                  "verdict": row["verdict"],
                  "resamples compressing": f"{row['support']:.0%}" if row["n_seeds"] > 1 else "-",
                  "seeds compressing": row["seeds_compressing"],
                  "drop (% of range)": _interval_of(row, "drop_fraction", True),
                  "drop (bits)": _interval_of(row, "drop_bits", False),
                  "peak epoch": _interval_of(row, "peak_epoch", False)}
        if has_null:
            record["null's drop (% of range)"] = _interval_of(row, "null_drop_fraction", True)
            record["network - null (% of range)"] = _interval_of(row, "excess_fraction", True)
            record["beyond the null"] = "-" if pd.isna(row["beyond_null"]) else row["beyond_null"]
        if pd.notna(row["run_drop_low"]):
            record["drop within runs (bits)"] = f"[{row['run_drop_low']:.4g}, {row['run_drop_high']:.4g}]"
        if pd.notna(row["run_excess_low"]):
            record["network - null within runs (bits)"] = f"[{row['run_excess_low']:.4g}, {row['run_excess_high']:.4g}]"
        records.append(record)
    legend = seed_rule.describe(rule) + (" Intervals in brackets." if len(table) else "") + (f" {note}" if note else "")
    return Section(heading, f"{legend}\n\n{markdown_table(pd.DataFrame.from_records(records))}")


def estimate_sections(frame: pd.DataFrame, estimator: str | None, ib_layer: str | None = None) -> tuple[Section, ...]:
    """The IB saturation (:func:`saturation_summary`) and negative-estimate
    (:func:`negative_summary`) sections of a run's planes."""
    parts = (saturation_summary(frame, ib_layer=ib_layer, estimator=estimator), negative_summary(frame, estimator=estimator))
    return tuple(Section(None, part) for part in parts if part)


def bullets(items: Iterable[str]) -> str:
    """A markdown list, one ``- item`` a line."""
    return "\n".join(f"- {item}" for item in items)


def plane_selection(run, ib_layer: str | None = None, gib_layer: str | None = None) -> dict:
    """Which trajectories a run's figures and report read: the run's estimator and synergy kind,
    the IB plane of ``ib_layer`` and the GIB plane of ``gib_layer`` (None: the only one)."""
    selection = dict(ib_layer=ib_layer, estimator=run.config["estimator"], kind=run.config["synergy"])
    if gib_layer is not None:
        selection["gib_layer"] = gib_layer
    return selection
